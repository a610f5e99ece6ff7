"""The replay memory in Redis: one memory of published signatures for every process and replica.

Each signed callback is one key, `sinch-relay:replay:<sha256 hex of the signature>` (the
signature itself never leaves the process). Every step is one atomic command or script,
so two relays racing for the same callback cannot both win:

- claim: `SET key <our token> NX PX <pending>`; if the key exists, its value says whether
  the callback is being published (a token) or was published (`done`);
- commit: `SET key done PX <horizon>`: remembered for the whole retry horizon;
- release (publish failed): delete the key only if it still holds our token.

A pending claim expires on its own (`PENDING_SECONDS`), so a relay that died mid-publish
blocks Sinch's retries of that callback for that long, never forever.
"""

from __future__ import annotations

import hashlib
import uuid

import redis.asyncio as aioredis
import structlog
from prometheus_client import Counter
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from relay.edge.auth.replay import Claim
from relay.errors import ReplayStoreDown

log = structlog.get_logger("relay.auth")

PREFIX = "sinch-relay:replay:"
DONE = "done"
# Longer than any publish can take (the confirm timeout bounds it), short enough that
# a claim orphaned by a crashed relay stops refusing Sinch's retries soon.
PENDING_SECONDS = 120
# Short, so a dead Redis turns into 503 quickly rather than into hung requests.
SOCKET_TIMEOUT = 0.5

_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def redis_key(signature: bytes, prefix: str = PREFIX) -> str:
    """The key of one signed callback: a digest, never the signature itself."""
    return prefix + hashlib.sha256(signature).hexdigest()


def redacted(url: str) -> str:
    """`url` without its password, for logs."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}" if user else f"{scheme}://***@{host}"


class RedisStore:
    """A `ReplayStore` in Redis at `url`, remembering published signatures `horizon` s;
    each failed command counts in `errors` (by operation: claim, commit, release, ping)."""

    shared = True

    def __init__(
        self, url: str, horizon: float, prefix: str = PREFIX, errors: Counter | None = None
    ) -> None:
        self._url = url
        self._errors = errors
        self._horizon_ms = int(horizon * 1000)
        self._prefix = prefix
        self._token = uuid.uuid4().hex  # this store's claims: only the claimer releases
        self._client: aioredis.Redis | None = None

    def __repr__(self) -> str:
        return f"RedisStore({redacted(self._url)!r})"

    async def open(self) -> None:
        client = aioredis.Redis.from_url(
            self._url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            decode_responses=True,
            # One immediate retry (a pooled connection Redis closed); no backoff: Sinch
            # retries, a request must not hang.
            retry=Retry(NoBackoff(), 1),
        )
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._client = client
        log.info("replay.store_opened", store="redis", url=redacted(self._url))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def claim(self, key: bytes, expires_at: float) -> Claim:
        """NEW if we now hold the claim; PENDING or DONE if another did (any process)."""
        args: list[str | int] = [self._token, PENDING_SECONDS * 1000]
        try:
            held = await self._claim(keys=[self._key(key)], args=args)
        except RedisError as exc:
            raise self._failed("claim") from exc
        if held is None:
            return Claim.NEW
        return Claim.DONE if held == DONE else Claim.PENDING

    async def commit(self, key: bytes) -> None:
        """Published: remembered for the whole horizon, whoever claimed it."""
        try:
            await self._redis().set(self._key(key), DONE, px=self._horizon_ms)
        except RedisError as exc:
            raise self._failed("commit") from exc

    async def release(self, key: bytes) -> None:
        """Forget our claim (the publish failed) so Sinch's retry is accepted."""
        try:
            await self._release(keys=[self._key(key)], args=[self._token])
        except RedisError as exc:
            raise self._failed("release") from exc

    async def ready(self) -> bool:
        try:
            return bool(await self._redis().ping())
        except RedisError:
            self._failed("ping")
            return False

    def _failed(self, operation: str) -> ReplayStoreDown:
        """Count a failed command; the error the caller raises (a 503, or readiness false)."""
        if self._errors is not None:
            self._errors.labels(operation).inc()
        return ReplayStoreDown("replay_store_unavailable")

    def _key(self, signature: bytes) -> str:
        return redis_key(signature, self._prefix)

    def _redis(self) -> aioredis.Redis:
        assert self._client is not None, "RedisStore used before open()"
        return self._client
