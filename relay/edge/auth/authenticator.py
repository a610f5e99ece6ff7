"""Build every route's guard from `SecuritySettings`, once, when the app is made.

The default paths take `[security]`'s credentials; each `[accounts.<name>]` its own
(`AccountSettings.security`), so a secret of one account never opens another's path.
The replay memory, the token endpoint and the limits are one for the whole relay.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from aiohttp import web
from prometheus_client import Counter

from relay.config import AccountSettings, SecuritySettings
from relay.contract import reasons
from relay.contract.routing import Flow
from relay.edge.accounts import DEFAULT, Route, account_routes, served_routes
from relay.edge.auth.basic import CredentialSet
from relay.edge.auth.checks import (
    check_account,
    check_coverage,
    guarded_paths,
    log_loaded,
    table_of,
)
from relay.edge.auth.clock import Clock, SystemClock
from relay.edge.auth.guard import Handlers, RoutePolicy, guarded, source_gate
from relay.edge.auth.network import Network, client_address, networks
from relay.edge.auth.oauth import TokenIssuer
from relay.edge.auth.replay import MemoryStore, ReplayStore
from relay.edge.auth.replay_redis import RedisStore
from relay.edge.auth.signature import SignatureVerifier
from relay.edge.auth.throttle import FailureWindow, TokenThrottle
from relay.edge.auth.token_endpoint import Limits, token_handler
from relay.edge.handlers import Handler
from relay.edge.quarantine import Quarantine

CALLBACK_PATHS = tuple(route.path for route in account_routes(DEFAULT))
STALE_REASON = reasons.STALE_SIGNATURE


class HandlerFactory(Protocol):
    """`callback_handler`'s shape: a handler for one URL, quarantining or flagging."""

    def __call__(
        self,
        path_flow: Flow | None,
        unrouted_reason: str | None = None,
        *,
        stale: bool = False,
        account: str = DEFAULT,
    ) -> Handler: ...


@dataclasses.dataclass(frozen=True, slots=True)
class _Account:
    """One account's mechanisms, built once: its settings, allowlist, pairs and secrets."""

    settings: SecuritySettings
    allow: tuple[Network, ...]
    basic: CredentialSet
    verifier: SignatureVerifier | None


class Authenticator:
    """Guards for the callback routes and, with OAuth on, the token endpoint."""

    def __init__(
        self,
        settings: SecuritySettings,
        failures: Counter,
        max_body_bytes: int,
        clock: Clock | None = None,
        *,
        accounts: Sequence[AccountSettings] = (),
        default_paths: bool = True,
        store_errors: Counter | None = None,
    ) -> None:
        """`max_body_bytes` (http.max_body_bytes) applies where no channel limit is set;
        `store_errors` counts a shared replay store's failed commands."""
        self.routes = served_routes(default_paths, accounts)
        self._limits = {
            Flow.DELIVERY_REPORTS: settings.max_body_bytes_delivery_reports or max_body_bytes,
            Flow.INBOUND: settings.max_body_bytes_inbound or max_body_bytes,
        }
        self._settings = settings
        self._failures = failures
        clock = clock or SystemClock()
        self._accounts = _build_accounts(settings, accounts, default_paths, clock)
        self._proxies = networks("security.trusted_proxies", settings.trusted_proxies)
        self._clients = CredentialSet(settings.oauth_clients)
        self._issuer = _issuer(settings, clock)
        self._replay = _replay_store(settings, clock, store_errors)
        self._stale_replay = MemoryStore(settings.replay_cache_size, clock)
        self._clock = clock
        self.quarantine: Quarantine | None = None  # set by the app when quarantine is on

    @property
    def client_max_size(self) -> int:
        """The app-wide body cap: the largest per-channel limit."""
        return max(self._limits.values())

    @property
    def replay_store(self) -> ReplayStore:
        """The memory of signed callbacks: opened and closed with the app."""
        return self._replay

    def protect(self, route: Route, make: HandlerFactory) -> Handler:
        """The handler for `route`: bare when nothing is configured for it."""
        policy, flow, account = self.policy(route), route.flow, route.account
        if policy.is_open():
            return make(flow, account=account)
        handlers = Handlers(
            make(flow, account=account),
            make(flow, STALE_REASON, account=account),
            make(flow, stale=True, account=account),
        )
        return guarded(policy, self._failures, handlers, self.quarantine)

    def policy(self, route: Route) -> RoutePolicy:
        s, path = self._settings, route.path
        account = self._accounts[route.account]
        own = account.settings
        return RoutePolicy(
            route=path,
            account=route.account,
            allow=account.allow,
            proxies=self._proxies,
            max_body=self._max_body(route.flow),
            body_timeout=s.body_timeout_seconds,
            basic=account.basic if path in own.basic_routes else None,
            tokens=self._issuer if path in own.oauth_routes else None,
            signatures=account.verifier if path in own.hmac_routes else None,
            replay=self._replay,
            reject_stale=s.hmac_stale == "reject",
            stale_replay=self._stale_replay,
            stale_memory=s.stale_memory_seconds,
            clock=self._clock,
        )

    def add_token_route(self, router: web.UrlDispatcher) -> None:
        if self._issuer is None:
            return
        path = self._settings.oauth_token_path
        allow = self._accounts[DEFAULT].allow  # [security]'s: the endpoint is not an account's
        gate = source_gate(RoutePolicy(path, allow=allow, proxies=self._proxies), self._failures)
        router.add_post(
            self._settings.oauth_token_path,
            token_handler(self._clients, self._issuer, gate, self._failures, self._token_limits()),
        )

    def _token_limits(self) -> Limits:
        s, proxies = self._settings, self._proxies
        window = s.oauth_token_failure_window_seconds

        def source(request: web.Request) -> str:
            forwarded = request.headers.getall("X-Forwarded-For", [])
            return str(client_address(request.remote, forwarded, proxies))

        return Limits(
            source,
            TokenThrottle(
                FailureWindow(s.oauth_token_failures_per_source, window, self._clock),
                FailureWindow(s.oauth_token_failures_per_client, window, self._clock),
            ),
        )

    def _max_body(self, channel: Flow | None) -> int | None:
        """The route's own limit, or None where the app-wide cap already is the limit."""
        if channel is None or self._limits[channel] >= self.client_max_size:
            return None
        return self._limits[channel]


def _build_accounts(
    shared: SecuritySettings,
    accounts: Sequence[AccountSettings],
    default_paths: bool,
    clock: Clock,
) -> dict[str, _Account]:
    """Each account's mechanisms, checked; then no served route may be left open."""
    each = {DEFAULT: shared} | {a.name: a.security(shared) for a in accounts}
    routes = served_routes(default_paths, accounts)
    for name, settings in each.items():
        paths = [r.path for r in routes if r.account == name]
        check_account(settings, paths, table_of(name))
        log_loaded(settings, name)
    check_coverage(routes, set().union(*map(guarded_paths, each.values())))
    return {name: _account(name, settings, clock) for name, settings in each.items()}


def _account(name: str, settings: SecuritySettings, clock: Clock) -> _Account:
    return _Account(
        settings,
        networks(f"{table_of(name)}.allow_cidrs", settings.allow_cidrs),
        CredentialSet(settings.basic_credentials),
        _verifier(settings, clock),
    )


def _replay_store(settings: SecuritySettings, clock: Clock, errors: Counter | None) -> ReplayStore:
    if settings.replay_store == "memory":
        return MemoryStore(settings.replay_cache_size, clock)
    return RedisStore(settings.replay_store, settings.replay_horizon_seconds, errors=errors)


def _issuer(settings: SecuritySettings, clock: Clock) -> TokenIssuer | None:
    if not settings.oauth_routes:
        return None
    ttl, grace = settings.oauth_token_ttl_seconds, settings.oauth_token_grace_seconds
    return TokenIssuer(settings.oauth_token_keys, ttl, grace, clock)


def _verifier(settings: SecuritySettings, clock: Clock) -> SignatureVerifier | None:
    if not settings.hmac_routes:
        return None
    return SignatureVerifier(settings.hmac_secrets, settings.hmac_tolerance_seconds, clock)
