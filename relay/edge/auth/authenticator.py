"""Build every route's guard from `SecuritySettings`, once, when the app is made."""

from __future__ import annotations

from typing import Protocol

import structlog
from aiohttp import web
from prometheus_client import Counter

from relay.config import ConfigError, Secret, SecuritySettings
from relay.contract.routing import CATCH_ALL_PATH, FLOW_PATHS, Flow
from relay.edge.auth.basic import CredentialSet, fits_header
from relay.edge.auth.clock import Clock, SystemClock
from relay.edge.auth.guard import Handlers, RoutePolicy, guarded, source_gate
from relay.edge.auth.network import client_address, networks
from relay.edge.auth.oauth import TokenIssuer
from relay.edge.auth.replay import MemoryStore, ReplayStore
from relay.edge.auth.replay_redis import RedisStore
from relay.edge.auth.signature import SignatureVerifier
from relay.edge.auth.throttle import FailureWindow, TokenThrottle
from relay.edge.auth.token_endpoint import Limits, token_handler
from relay.edge.handlers import Handler
from relay.edge.quarantine import Quarantine

log = structlog.get_logger("relay.auth")

CALLBACK_PATHS = (CATCH_ALL_PATH, *FLOW_PATHS.values())
STALE_REASON = "stale_signature"


class HandlerFactory(Protocol):
    """`callback_handler`'s shape: a handler for one URL, quarantining or flagging."""

    def __call__(
        self, path_flow: Flow | None, unrouted_reason: str | None = None, *, stale: bool = False
    ) -> Handler: ...


class Authenticator:
    """Guards for the callback routes and, with OAuth on, the token endpoint."""

    def __init__(
        self,
        settings: SecuritySettings,
        failures: Counter,
        max_body_bytes: int,
        clock: Clock | None = None,
    ) -> None:
        """`max_body_bytes` (http.max_body_bytes) applies where no channel limit is set."""
        _check(settings)
        _log_loaded(settings)
        self._limits = {
            Flow.DELIVERY_REPORTS: settings.max_body_bytes_delivery_reports or max_body_bytes,
            Flow.INBOUND: settings.max_body_bytes_inbound or max_body_bytes,
        }
        self._settings = settings
        self._failures = failures
        clock = clock or SystemClock()
        self._allow = networks("allow_cidrs", settings.allow_cidrs)
        self._proxies = networks("trusted_proxies", settings.trusted_proxies)
        self._basic = CredentialSet(settings.basic_credentials)
        self._clients = CredentialSet(settings.oauth_clients)
        self._issuer = _issuer(settings, clock)
        self._verifier = _verifier(settings, clock)
        self._replay = _replay_store(settings, clock)
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

    def protect(self, path: str, channel: Flow | None, make: HandlerFactory) -> Handler:
        """The handler for `path`: bare when nothing is configured for it."""
        policy = self.policy(path, channel)
        if policy.is_open():
            return make(channel)
        handlers = Handlers(make(channel), make(channel, STALE_REASON), make(channel, stale=True))
        return guarded(policy, self._failures, handlers, self.quarantine)

    def policy(self, path: str, channel: Flow | None) -> RoutePolicy:
        s = self._settings
        return RoutePolicy(
            route=path,
            allow=self._allow,
            proxies=self._proxies,
            max_body=self._max_body(channel),
            body_timeout=s.body_timeout_seconds,
            basic=self._basic if path in s.basic_routes else None,
            tokens=self._issuer if path in s.oauth_routes else None,
            signatures=self._verifier if path in s.hmac_routes else None,
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
        gate = source_gate(RoutePolicy(path, self._allow, self._proxies), self._failures)
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


def _replay_store(settings: SecuritySettings, clock: Clock) -> ReplayStore:
    if settings.replay_store == "memory":
        return MemoryStore(settings.replay_cache_size, clock)
    return RedisStore(settings.replay_store, settings.replay_horizon_seconds)


def _issuer(settings: SecuritySettings, clock: Clock) -> TokenIssuer | None:
    if not settings.oauth_routes:
        return None
    ttl, grace = settings.oauth_token_ttl_seconds, settings.oauth_token_grace_seconds
    return TokenIssuer(settings.oauth_token_keys, ttl, grace, clock)


def _verifier(settings: SecuritySettings, clock: Clock) -> SignatureVerifier | None:
    if not settings.hmac_routes:
        return None
    return SignatureVerifier(settings.hmac_secrets, settings.hmac_tolerance_seconds, clock)


def _check(s: SecuritySettings) -> None:
    """Refuse a configuration that would leave a route open or lock Sinch out."""
    for key, routes in (
        ("hmac", s.hmac_routes),
        ("basic", s.basic_routes),
        ("oauth", s.oauth_routes),
    ):
        unknown = set(routes) - set(CALLBACK_PATHS)
        if unknown:
            raise ConfigError(f"security.{key}_routes: unknown path(s) {sorted(unknown)}")
    _need(s.hmac_routes, s.hmac_secrets, "hmac_secrets")
    _need(s.basic_routes, s.basic_credentials, "basic_credentials")
    _need(s.oauth_routes, s.oauth_clients, "oauth_clients")
    _need(s.oauth_routes, s.oauth_token_keys, "oauth_token_keys")
    for key, pairs in (
        ("basic_credentials", s.basic_credentials),
        ("oauth_clients", s.oauth_clients),
    ):
        if any(":" not in p.reveal() for p in pairs):
            raise ConfigError(f"security.{key}: every entry must be 'name:secret'")
        if not all(fits_header(p.reveal(), s.max_header_bytes) for p in pairs):
            raise ConfigError(
                f"security.{key}: an entry is too long to arrive as an Authorization header "
                f"within security.max_header_bytes ({s.max_header_bytes}); shorten it or "
                "raise the limit"
            )
    _check_coverage(s)


def _check_coverage(s: SecuritySettings) -> None:
    """Every callback path carries every type (routing follows `type`, not the URL), so
    credentials on one path and none on another would let a forged callback in by the
    other: a forged `STOP` on an open `/sms` becomes an opt-out."""
    guarded = set(s.hmac_routes) | set(s.basic_routes) | set(s.oauth_routes)
    open_paths = [p for p in CALLBACK_PATHS if p not in guarded]
    if guarded and open_paths:
        raise ConfigError(
            f"security: route(s) {open_paths} left open while {sorted(guarded)} require "
            "credentials; every callback path accepts every type, so add them to "
            "hmac_routes, basic_routes or oauth_routes"
        )


def _log_loaded(s: SecuritySettings) -> None:
    """How many secrets each mechanism loaded (never a value), so a secret split by a comma
    or dropped as a `#` comment shows at start-up rather than as 401s for every callback."""
    log.info(
        "security.secrets_loaded",
        hmac_secrets=len(s.hmac_secrets),
        basic_credentials=len(s.basic_credentials),
        oauth_clients=len(s.oauth_clients),
        oauth_token_keys=len(s.oauth_token_keys),
    )


def _need(routes: tuple[str, ...], secrets: tuple[Secret, ...], key: str) -> None:
    if routes and not secrets:
        raise ConfigError(f"security.{key} (or {key}_file) is required for those routes")
