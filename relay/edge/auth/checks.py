"""Start-up refusals: a security configuration that would leave a route open or lock Sinch out.

Checked once per account (the default paths are the account `""`, keyed `security.*`;
account `eu` is keyed `accounts.eu.*`), then across every route the relay serves.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from relay.config import ConfigError, Secret, SecuritySettings
from relay.edge.accounts import Route
from relay.edge.auth.basic import fits_header

log = structlog.get_logger("relay.auth")


def table_of(account: str) -> str:
    """Where an account's keys live: `security` for the default paths, else `accounts.<name>`."""
    return f"accounts.{account}" if account else "security"


def check_account(s: SecuritySettings, paths: Iterable[str], table: str) -> None:
    """Refuse routes outside the account's paths, mechanisms without secrets, bad entries."""
    own = set(paths)
    for key, routes in (
        ("hmac", s.hmac_routes),
        ("basic", s.basic_routes),
        ("oauth", s.oauth_routes),
    ):
        unknown = set(routes) - own
        if unknown:
            raise ConfigError(f"{table}.{key}_routes: unknown path(s) {sorted(unknown)}")
    _need(s.hmac_routes, s.hmac_secrets, table, "hmac_secrets")
    _need(s.basic_routes, s.basic_credentials, table, "basic_credentials")
    _need(s.oauth_routes, s.oauth_clients, table, "oauth_clients")
    _need(s.oauth_routes, s.oauth_token_keys, table, "oauth_token_keys")
    for key, pairs in (
        ("basic_credentials", s.basic_credentials),
        ("oauth_clients", s.oauth_clients),
    ):
        if any(":" not in p.reveal() for p in pairs):
            raise ConfigError(f"{table}.{key}: every entry must be 'name:secret'")
        if not all(fits_header(p.reveal(), s.max_header_bytes) for p in pairs):
            raise ConfigError(
                f"{table}.{key}: an entry is too long to arrive as an Authorization header "
                f"within security.max_header_bytes ({s.max_header_bytes}); shorten it or "
                "raise the limit"
            )


def check_coverage(routes: Iterable[Route], guarded: set[str]) -> None:
    """Every callback path carries every type (routing follows `type`, not the URL), and
    every account's paths publish to the same exchanges, so credentials on one path and
    none on another would let a forged callback in by the other: a forged `STOP` on an
    open `/sms` (or `/sms/<account>`) becomes an opt-out."""
    open_paths = [r.path for r in routes if r.path not in guarded]
    if guarded and open_paths:
        raise ConfigError(
            f"security: route(s) {open_paths} left open while {sorted(guarded)} require "
            "credentials; every callback path accepts every type, so add them to "
            "hmac_routes, basic_routes or oauth_routes (of [security] or their account)"
        )


def guarded_paths(s: SecuritySettings) -> set[str]:
    return set(s.hmac_routes) | set(s.basic_routes) | set(s.oauth_routes)


def log_loaded(s: SecuritySettings, account: str) -> None:
    """How many secrets each mechanism loaded (never a value), so a secret split by a comma
    or dropped as a `#` comment shows at start-up rather than as 401s for every callback."""
    log.info(
        "security.secrets_loaded",
        **({"account": account} if account else {}),
        hmac_secrets=len(s.hmac_secrets),
        basic_credentials=len(s.basic_credentials),
        oauth_clients=len(s.oauth_clients),
        oauth_token_keys=len(s.oauth_token_keys),
    )


def _need(routes: tuple[str, ...], secrets: tuple[Secret, ...], table: str, key: str) -> None:
    if routes and not secrets:
        raise ConfigError(f"{table}.{key} (or {key}_file) is required for those routes")
