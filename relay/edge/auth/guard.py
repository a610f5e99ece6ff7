"""One callback route's checks, wrapped around its handler.

Order: source address, size, credentials (before a byte of the body is read), then the
body within its time limit, then the signature over the raw bytes and the replay memory.
A route with nothing configured gets no guard at all: its handler runs bare.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from aiohttp import web
from prometheus_client import Counter

from relay.edge.auth.basic import CredentialSet, basic_payload
from relay.edge.auth.clock import Clock, SystemClock
from relay.edge.auth.network import Network, client_address, within
from relay.edge.auth.oauth import TokenIssuer, bearer_token
from relay.edge.auth.replay import Claim, ReplayCache
from relay.edge.auth.signature import SignatureVerifier, Verified
from relay.edge.body import read_body
from relay.edge.handlers import ACCEPTED, Handler
from relay.edge.keys import LOG_FIELDS
from relay.errors import Forbidden, ReplayInFlight, ReplayMemoryFull, Unauthorized

_REFUSALS = (Unauthorized, Forbidden, ReplayInFlight, ReplayMemoryFull)


@dataclasses.dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What one route demands; `None` or empty means that check is off."""

    route: str
    allow: tuple[Network, ...] = ()
    proxies: tuple[Network, ...] = ()
    max_body: int | None = None
    body_timeout: float = 0.0
    basic: CredentialSet | None = None
    tokens: TokenIssuer | None = None
    signatures: SignatureVerifier | None = None
    replay: ReplayCache | None = None
    reject_stale: bool = False
    stale_replay: ReplayCache | None = None  # stale signatures already quarantined
    stale_memory: float = 0.0  # seconds a quarantined stale signature is remembered
    clock: Clock = dataclasses.field(default_factory=SystemClock)

    def stale_until(self) -> float:
        return self.clock.now() + self.stale_memory

    def is_open(self) -> bool:
        # The body timeout alone needs no guard: the callback handler reads within it too.
        checks = (self.allow, self.max_body, self.basic, self.tokens)
        return not any(checks) and self.signatures is None


def guarded(policy: RoutePolicy, failures: Counter, inner: Handler, stale: Handler) -> Handler:
    """`inner` behind `policy`; `stale` relays a genuine but stale callback (quarantine)."""
    guard = _Guard(policy, failures, inner, stale)

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await guard.run(request)
        except _REFUSALS as exc:
            guard.note(request, exc.detail)
            raise

    return handle


def check_source(policy: RoutePolicy, request: web.Request) -> None:
    """`Forbidden` unless the client (see `client_address`) is in the allowlist, if any."""
    if policy.allow:
        forwarded = request.headers.getall("X-Forwarded-For", [])
        client = client_address(request.remote, forwarded, policy.proxies)
        if not within(client, policy.allow):
            raise Forbidden("source_not_allowed")


def source_gate(policy: RoutePolicy, failures: Counter) -> Callable[[web.Request], None]:
    """`check_source` that also logs and counts a refusal, for non-callback routes."""

    def gate(request: web.Request) -> None:
        try:
            check_source(policy, request)
        except Forbidden as exc:
            request[LOG_FIELDS]["auth"] = exc.detail
            failures.labels(policy.route, exc.detail).inc()
            raise

    return gate


class _Guard:
    def __init__(self, policy: RoutePolicy, failures: Counter, inner: Handler, stale: Handler):
        self.policy = policy
        self._failures = failures
        self._inner = inner
        self._stale = stale

    def note(self, request: web.Request, reason: str) -> None:
        request[LOG_FIELDS]["auth"] = reason
        self._failures.labels(self.policy.route, reason).inc()

    async def run(self, request: web.Request) -> web.StreamResponse:
        self.admit(request)
        body = await self._read(request)
        if self.policy.signatures is None:
            return await self._inner(request)
        verdict = self.policy.signatures.verify(request.headers, body)
        if not verdict.fresh:
            return await self._quarantine(request, verdict)
        assert self.policy.replay is not None
        return await self._once(request, verdict, self.policy.replay, self._inner)

    def admit(self, request: web.Request) -> None:
        """Source address, declared size and credentials: all before reading the body."""
        policy = self.policy
        check_source(policy, request)
        if policy.max_body is not None and (request.content_length or 0) > policy.max_body:
            raise web.HTTPRequestEntityTooLarge(policy.max_body, request.content_length or 0)
        if policy.basic is not None or policy.tokens is not None:
            self._authorize(request.headers.get("Authorization"))

    def _authorize(self, header: str | None) -> None:
        basic, tokens = self.policy.basic, self.policy.tokens
        pair = basic_payload(header) if basic is not None else None
        if basic is not None and pair is not None and basic.accepts(pair):
            return
        token = bearer_token(header) if tokens is not None else None
        if tokens is not None and token is not None and tokens.accepts(token):
            return
        challenge = (
            'Basic realm="sinch-relay"' if basic is not None else 'Bearer realm="sinch-relay"'
        )
        reason = "missing_credentials" if header is None else "bad_credentials"
        raise Unauthorized(reason, challenge)

    async def _read(self, request: web.Request) -> bytes:
        body = await read_body(request, self.policy.body_timeout)
        limit = self.policy.max_body
        if limit is not None and len(body) > limit:
            raise web.HTTPRequestEntityTooLarge(limit, len(body))
        return body

    async def _quarantine(self, request: web.Request, verdict: Verified) -> web.StreamResponse:
        """A genuine but stale signature goes unrouted once, not again on every replay."""
        if self.policy.reject_stale:
            raise Unauthorized("stale_timestamp")
        self.note(request, "stale_timestamp")
        memory = self.policy.stale_replay
        assert memory is not None
        remembered = dataclasses.replace(verdict, expires_at=self.policy.stale_until())
        return await self._once(request, remembered, memory, self._stale)

    async def _once(
        self, request: web.Request, verdict: Verified, replay: ReplayCache, publish: Handler
    ) -> web.StreamResponse:
        """Publish a signed callback at most once while `replay` remembers it."""
        claim = replay.claim(verdict.key, verdict.expires_at)
        if claim is Claim.DONE:
            self.note(request, "replay")
            return web.Response(body=ACCEPTED, content_type="application/json")
        if claim is Claim.PENDING:
            raise ReplayInFlight("replay_in_flight")
        if claim is Claim.FULL:
            raise ReplayMemoryFull("replay_memory_full")
        try:
            response = await publish(request)
        except BaseException:
            replay.release(verdict.key)
            raise
        replay.commit(verdict.key)
        return response
