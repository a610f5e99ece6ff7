"""One callback route's checks, wrapped around its handler.

Order: source address, size, credentials (before a byte of the body is read), then the
body within its time limit, then the signature over the raw bytes and the replay memory.
A route with nothing configured gets no guard at all: its handler runs bare.
A refusal (401/403) is still answered as such; with a quarantine its request is kept
(relay.edge.quarantine) for a later re-check against the configuration of that day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import structlog
from aiohttp import web
from prometheus_client import Counter

from relay.edge._aiohttp import JsonOk
from relay.edge.auth.basic import CredentialSet, basic_payload
from relay.edge.auth.clock import Clock, SystemClock
from relay.edge.auth.network import Network, client_address, within
from relay.edge.auth.oauth import TokenIssuer, bearer_token
from relay.edge.auth.replay import Claim, ReplayStore
from relay.edge.auth.signature import SignatureVerifier, Verified
from relay.edge.body import read_body
from relay.edge.handlers import ACCEPTED, Handler
from relay.edge.keys import LOG_FIELDS, METRICS
from relay.edge.quarantine import Quarantine
from relay.errors import (
    Forbidden,
    ReplayInFlight,
    ReplayMemoryFull,
    ReplayStoreDown,
    Unauthorized,
)

log = structlog.get_logger("relay.auth")

_REFUSALS = (Unauthorized, Forbidden, ReplayInFlight, ReplayMemoryFull, ReplayStoreDown)
# Refusals Sinch never retries; the replay ones are 503/429, so Sinch sends them again.
_FOR_GOOD = (Unauthorized, Forbidden)


@dataclasses.dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What one route demands; `None` or empty means that check is off."""

    route: str
    account: str = ""  # the Sinch account whose path this is ("": the default paths)
    allow: tuple[Network, ...] = ()
    proxies: tuple[Network, ...] = ()
    max_body: int | None = None
    body_timeout: float = 0.0
    basic: CredentialSet | None = None
    tokens: TokenIssuer | None = None
    signatures: SignatureVerifier | None = None
    replay: ReplayStore | None = None  # shared: stale signatures are published, flagged
    reject_stale: bool = False
    stale_replay: ReplayStore | None = None  # stale signatures already quarantined
    stale_memory: float = 0.0  # seconds a quarantined stale signature is remembered
    clock: Clock = dataclasses.field(default_factory=SystemClock)

    def stale_until(self) -> float:
        return self.clock.now() + self.stale_memory

    def is_open(self) -> bool:
        # The body timeout alone needs no guard: the callback handler reads within it too.
        checks = (self.allow, self.max_body, self.basic, self.tokens)
        return not any(checks) and self.signatures is None


@dataclasses.dataclass(frozen=True, slots=True)
class Handlers:
    """Where a callback goes: `inner` (fresh), `stale` (quarantine: unrouted) or `flagged`
    (a stale signature never published before, with a shared replay memory)."""

    inner: Handler
    stale: Handler
    flagged: Handler


def guarded(
    policy: RoutePolicy,
    failures: Counter,
    handlers: Handlers,
    quarantine: Quarantine | None = None,
) -> Handler:
    """`handlers.inner` behind `policy`; refusals kept in `quarantine`, if any."""
    guard = _Guard(policy, failures, handlers)

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await guard.run(request)
        except _REFUSALS as exc:
            guard.note(request, exc.detail)
            if quarantine is not None and isinstance(exc, _FOR_GOOD):
                await quarantine.hold(request, policy.route, exc.detail, policy.max_body)
            raise

    return handle


def check_source(policy: RoutePolicy, request: web.Request) -> None:
    """`Forbidden` unless the client (see `client_address`) is in the allowlist, if any."""
    if policy.allow:
        check_address(policy, request.remote, request.headers.getall("X-Forwarded-For", []))


def check_address(policy: RoutePolicy, peer: str | None, forwarded: list[str]) -> None:
    """`check_source` on a peer address and X-Forwarded-For values (also the re-check's)."""
    if policy.allow and not within(client_address(peer, forwarded, policy.proxies), policy.allow):
        raise Forbidden("source_not_allowed")


def authorize(policy: RoutePolicy, header: str | None) -> None:
    """`Unauthorized` unless `header` holds credentials the route accepts (Basic or Bearer)."""
    basic, tokens = policy.basic, policy.tokens
    pair = basic_payload(header) if basic is not None else None
    if basic is not None and pair is not None and basic.accepts(pair):
        return
    token = bearer_token(header) if tokens is not None else None
    if tokens is not None and token is not None and tokens.accepts(token):
        return
    challenge = 'Basic realm="sinch-relay"' if basic is not None else 'Bearer realm="sinch-relay"'
    reason = "missing_credentials" if header is None else "bad_credentials"
    raise Unauthorized(reason, challenge)


def source_gate(policy: RoutePolicy, failures: Counter) -> Callable[[web.Request], None]:
    """`check_source` that also logs and counts a refusal, for non-callback routes."""

    def gate(request: web.Request) -> None:
        try:
            check_source(policy, request)
        except Forbidden as exc:
            request[LOG_FIELDS]["auth"] = exc.detail
            failures.labels(policy.route, exc.detail, policy.account).inc()
            raise

    return gate


class _Guard:
    def __init__(self, policy: RoutePolicy, failures: Counter, handlers: Handlers):
        self.policy = policy
        self._failures = failures
        self._handlers = handlers

    def note(self, request: web.Request, reason: str, *, refused: bool = True) -> None:
        """`reason` to the request's log line (`auth=`), and a refusal to its counter.

        What is not refused is counted where it ends (`relay_replays_total`,
        `relay_stale_signatures_total`): each request in one counter at most.
        """
        request[LOG_FIELDS]["auth"] = reason
        if refused:
            self._failures.labels(self.policy.route, reason, self.policy.account).inc()

    async def run(self, request: web.Request) -> web.StreamResponse:
        self.admit(request)
        body = await self._read(request)
        if self.policy.signatures is None:
            return await self._handlers.inner(request)
        verdict = self.policy.signatures.verify(request.headers, body)
        assert self.policy.replay is not None
        if not verdict.fresh:
            return await self._stale_signature(request, verdict, self.policy.replay)
        return await self._once(request, verdict, self.policy.replay, self._handlers.inner)

    def admit(self, request: web.Request) -> None:
        """Source address, declared size and credentials: all before reading the body."""
        policy = self.policy
        check_source(policy, request)
        if policy.max_body is not None and (request.content_length or 0) > policy.max_body:
            raise web.HTTPRequestEntityTooLarge(policy.max_body, request.content_length or 0)
        if policy.basic is not None or policy.tokens is not None:
            authorize(policy, request.headers.get("Authorization"))

    async def _read(self, request: web.Request) -> bytes:
        body = await read_body(request, self.policy.body_timeout)
        limit = self.policy.max_body
        if limit is not None and len(body) > limit:
            raise web.HTTPRequestEntityTooLarge(limit, len(body))
        return body

    async def _stale_signature(
        self, request: web.Request, verdict: Verified, replay: ReplayStore
    ) -> web.StreamResponse:
        """A genuine but stale signature: to the consumers, flagged, if a shared memory
        (kept for Sinch's whole retry horizon) says it was never published; without one,
        unrouted once, not again on every replay."""
        if self.policy.reject_stale:
            raise Unauthorized("stale_timestamp")
        self.note(request, "stale_timestamp", refused=False)
        if replay.shared:
            return await self._once(request, verdict, replay, self._handlers.flagged, "flagged")
        memory = self.policy.stale_replay
        assert memory is not None
        remembered = dataclasses.replace(verdict, expires_at=self.policy.stale_until())
        return await self._once(request, remembered, memory, self._handlers.stale, "unrouted")

    async def _once(
        self,
        request: web.Request,
        verdict: Verified,
        replay: ReplayStore,
        publish: Handler,
        stale: str | None = None,
    ) -> web.StreamResponse:
        """Publish a signed callback at most once while `replay` remembers it; a `stale`
        one (its outcome: "unrouted" or "flagged") is counted once published."""
        claim = await replay.claim(verdict.key, verdict.expires_at)
        if claim is Claim.DONE:
            self.note(request, "replay", refused=False)
            request.app[METRICS].replays.labels(self.policy.route).inc()
            return JsonOk(body=ACCEPTED, content_type="application/json")
        if claim is Claim.PENDING:
            raise ReplayInFlight("replay_in_flight")
        if claim is Claim.FULL:
            raise ReplayMemoryFull("replay_memory_full")
        try:
            response = await publish(request)
        except BaseException:
            await _forget(replay, verdict.key)
            raise
        await _remember(replay, verdict.key, request)
        if stale is not None:
            request.app[METRICS].stale_signatures.labels(self.policy.route, stale).inc()
        return response


async def _forget(replay: ReplayStore, key: bytes) -> None:
    """Release a failed publish's claim; if the store is down its claim expires instead."""
    try:
        await replay.release(key)
    except ReplayStoreDown:
        log.warning("replay.release_failed")


async def _remember(replay: ReplayStore, key: bytes, request: web.Request) -> None:
    """Mark a published callback; if that fails it *was* published, so the answer stays
    2xx (a 503 would only bring a retry that might be published again)."""
    try:
        await replay.commit(key)
    except ReplayStoreDown:
        request[LOG_FIELDS]["replay_commit"] = "failed"
        log.warning("replay.commit_failed")
