"""The re-check of a quarantined callback: would the edge, configured as today, have let
it in when it came?

`recheck` runs the edge's own checks (relay.edge.auth: allowlist, size, Basic/OAuth via
the kept digest, HMAC) with their clock set to the callback's arrival, so a signature
window or token expiry is judged as of then. A route open today proves nothing about a
callback: on such a route the held callback stays. Everything keys on the stored route
path, so per-account routes plug in through `Checks.policy`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as Metric

from relay.config import SecuritySettings, Settings
from relay.contract import message as h
from relay.edge.accounts import Route
from relay.edge.auth import Authenticator
from relay.edge.auth.guard import RoutePolicy, authorize, check_address
from relay.edge.auth.kept import presented
from relay.errors import Forbidden, Unauthorized
from relay.recovery import listing


@dataclasses.dataclass(frozen=True, slots=True)
class Held:
    """One refused callback as the quarantine keeps it (relay.edge.quarantine)."""

    route: str
    reason: str
    body: bytes
    headers: Mapping[str, str]
    peer: str
    credential: Mapping[str, Any] | None
    received_at: float
    request_id: str

    @property
    def forwarded(self) -> list[str]:
        given = self.headers.get("x-forwarded-for")
        return [given] if given else []


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a held callback passes today's checks; `reason` says why not."""

    passed: bool
    reason: str = ""


class _ArrivalClock:
    """The clock the checks read: set to each held callback's arrival before its re-check."""

    def __init__(self) -> None:
        self.at = 0.0

    def now(self) -> float:
        return self.at


class Checks:
    """The edge's checks for each route, built once from the current settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clock = _ArrivalClock()
        labels = ["route", "reason", "account"]
        unused = Metric("recheck_refusals", "", labels, registry=CollectorRegistry())
        self._auth = Authenticator(
            settings.security,
            unused,
            settings.http.max_body_bytes,
            self._clock,
            accounts=settings.accounts,
            default_paths=settings.http.default_paths,
        )
        self._routes = {served.path: served for served in self._auth.routes}
        self._security = {a.name: a.security(settings.security) for a in settings.accounts}

    def policy(self, route: str, at: float) -> RoutePolicy | None:
        """The checks of `route` (an account's path too) as of `at` (Unix seconds); None
        for a route not served today."""
        served = self._routes.get(route)
        if served is None:
            return None
        self._clock.at = at
        return self._auth.policy(served)

    def route(self, path: str) -> Route | None:
        """The route served today at `path` (its flow and account); None if none is."""
        return self._routes.get(path)

    def security(self, policy: RoutePolicy) -> SecuritySettings:
        """The credentials `policy`'s account is configured with: its own, or `[security]`."""
        return self._security.get(policy.account, self.settings.security)

    @property
    def max_body(self) -> int:
        return self._auth.client_max_size


def recheck(checks: Checks, route: str, held: Held) -> Verdict:
    """Would the edge, configured as today, have accepted `held` on `route` when it came?"""
    policy = checks.policy(route, held.received_at)
    if policy is None:
        return Verdict(False, "unknown_route")
    if policy.is_open():
        return Verdict(False, "route_open_now")
    if len(held.body) > (policy.max_body or checks.max_body):
        return Verdict(False, "too_large")
    try:
        check_address(policy, held.peer, held.forwarded)
        if policy.basic is not None or policy.tokens is not None:
            _credentials(checks.security(policy), policy, held)
        if (
            policy.signatures is not None
            and not policy.signatures.verify(held.headers, held.body).fresh
        ):
            return Verdict(False, "stale_timestamp")
    except (Unauthorized, Forbidden) as exc:
        return Verdict(False, exc.detail)
    return Verdict(True)


def _credentials(security: SecuritySettings, policy: RoutePolicy, held: Held) -> None:
    """`authorize` on each header, rebuilt from today's credentials, whose digest matches
    the kept one; none kept: on none presented, as the edge saw it."""
    if held.credential is None:
        authorize(policy, None)
        return
    refusal = Unauthorized("bad_credentials")
    for header in presented(held.credential, security, policy.tokens):
        try:
            authorize(policy, header)
            return
        except Unauthorized as exc:
            refusal = exc
    raise refusal


def held_from(message: AbstractIncomingMessage) -> Held:
    """A quarantined AMQP message as the re-check reads it."""
    headers = message.headers or {}
    kept = headers.get(h.QUARANTINE_HEADERS)
    credential = headers.get(h.QUARANTINE_CREDENTIAL)
    sent = message.timestamp
    return Held(
        route=listing.text(headers, h.RELAY_PATH, ""),
        reason=listing.text(headers, h.QUARANTINE_REASON),
        body=message.body,
        headers={k: listing.text(kept, k) for k in kept} if isinstance(kept, dict) else {},
        peer=listing.text(headers, h.QUARANTINE_PEER, ""),
        credential=credential if isinstance(credential, dict) else None,
        received_at=sent.replace(tzinfo=datetime.UTC).timestamp() if sent else 0.0,
        request_id=listing.text(headers, h.REQUEST_ID),
    )
