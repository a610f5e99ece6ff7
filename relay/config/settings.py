"""The relay's settings model: a TOML file plus `RELAY_*` environment overrides, parsed once.

Every setting lives in a section (`[amqp]`, `[http]`, ...). Its environment override is
`RELAY_<SECTION>_<KEY>` in upper case, e.g. `RELAY_AMQP_CONFIRM_TIMEOUT=2.5` or
`RELAY_AMQP_URL`. Bounds are `Meta` annotations on the fields; relay/config/loader.py (shared
with the consumers) coerces, checks and names the key and its variable in every error.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from msgspec import Meta

from relay.config.accounts import AccountSettings, check_accounts, load_accounts
from relay.config.loader import SecretUrls, Section, load_section, read_toml, reject_unknown
from relay.config.secret import ConfigError, Secret

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


# Request headers that carry credentials: no setting may forward them to the broker.
NEVER_FORWARD = frozenset({"authorization", "cookie", "proxy-authorization"})
SIGNATURE_HEADERS = "x-sinch-webhook-signature"


@dataclasses.dataclass(frozen=True, slots=True)
class HttpSettings:
    host: str = "0.0.0.0"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8080
    max_body_bytes: Annotated[int, Meta(ge=1)] = 1024 * 1024
    # Request headers copied into AMQP headers as `http-<name>`; never auth or signatures.
    forward_headers: tuple[str, ...] = ("user-agent", "x-request-id")
    # Sinch's four signature headers, under their own names, so downstream can re-verify
    # the body with Sinch's SDK; the only way they reach the broker (opt-in).
    forward_signature: bool = False
    retry_after_seconds: Annotated[int, Meta(ge=1)] = 5
    # The single-account paths (/sms, /sms/delivery-report, /sms/incoming); false: only
    # the `[accounts.<name>]` paths are served.
    default_paths: bool = True

    def __post_init__(self) -> None:
        # Checked once here, not per request: credentials never reach the broker.
        names = tuple(name.lower() for name in self.forward_headers)
        leaking = [n for n in names if n in NEVER_FORWARD or n.startswith(SIGNATURE_HEADERS)]
        if leaking:
            raise ConfigError(
                f"invalid setting http.forward_headers: never forwarded: {', '.join(leaking)}"
                " (signature headers: set http.forward_signature instead)"
            )
        object.__setattr__(self, "forward_headers", names)


@dataclasses.dataclass(frozen=True, slots=True)
class AmqpSettings:
    url: Secret = Secret(DEFAULT_AMQP_URL)
    # Several brokers (cluster nodes), tried in turn on (re)connect; overrides `url`.
    # RELAY_AMQP_URLS="amqp://u:p@node1:5672/,amqp://u:p@node2:5672/"
    urls: SecretUrls = ()
    connection_name: str = "sinch-relay"
    confirm_timeout: Annotated[float, Meta(ge=0.001)] = 3.0
    max_in_flight: Annotated[int, Meta(ge=1)] = 4096
    # Confirm channels on the one connection, used round-robin: the broker runs each
    # channel in its own process, so more than one spreads its work over cores.
    channels: Annotated[int, Meta(ge=1)] = 1
    reconnect_interval: Annotated[float, Meta(ge=0.01)] = 1.0
    # Reconnect delays double up to this: short, so the relay is back within seconds of
    # the broker (the fault suite saw 503s linger up to 6 s with a 30 s cap).
    max_reconnect_interval: Annotated[float, Meta(ge=0.01)] = 2.0
    connect_timeout: Annotated[float, Meta(ge=0.01)] = 5.0
    heartbeat: Annotated[int, Meta(ge=0)] = 30
    # batched: a tick's publishes framed into one write (aiormq internals, version-guarded);
    # public: one basic_publish each, aiormq's public API only.
    pipeline: Literal["batched", "public"] = "batched"

    def addresses(self) -> tuple[Secret, ...]:
        """Every broker address to try, in order."""
        return self.urls or (self.url,)


@dataclasses.dataclass(frozen=True, slots=True)
class TopologySettings:
    delivery_reports: str = "sinch.sms.delivery_reports"
    inbound: str = "sinch.sms.inbound"
    unrouted: str = "sinch.sms.unrouted"
    unrouted_queue_type: Literal["quorum", "classic"] = "quorum"
    # The stream every accepted callback is also kept in, when archive.enabled.
    archive: str = "sinch.sms.archive"
    # Callbacks edge security refused, while quarantine.enabled: bounded, bound to nothing.
    quarantine: str = "sinch.sms.quarantine"
    # false: only check passively that the exchanges and the unrouted queue exist.
    declare: bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


@dataclasses.dataclass(frozen=True, slots=True)
class ShutdownSettings:
    # Seconds to keep answering 503 (readiness false) before the listener closes.
    grace: Annotated[float, Meta(ge=0)] = 0.0
    # Upper bound on waiting for in-flight requests and confirms.
    timeout: Annotated[float, Meta(ge=0)] = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class SecuritySettings:
    """Edge security, all off by default; docs/security.md says how to turn each on.

    Route lists name callback paths (`/sms`, `/sms/delivery-report`, `/sms/incoming`).
    Secret lists take several values at once (rotation); each `<name>_file` names a file
    with one value per line (container secrets), read once at start-up and merged in.
    """

    hmac_routes: tuple[str, ...] = ()
    hmac_secrets: tuple[Secret, ...] = ()
    hmac_secrets_file: str = ""
    hmac_tolerance_seconds: Annotated[int, Meta(ge=1)] = 300
    # A valid signature outside the window: relay it to the unrouted exchange, or 401.
    hmac_stale: Literal["unrouted", "reject"] = "unrouted"
    replay_cache_size: Annotated[int, Meta(ge=1)] = 100_000
    # How long a stale signature, once quarantined, is not quarantined again: longer
    # than Sinch's retry horizon, even its longest account (docs/sinch.md, section 2).
    stale_memory_seconds: Annotated[int, Meta(ge=1)] = 48 * 3600
    # "memory" (this process only) or a redis:// / rediss:// URL: one memory shared by every
    # process and replica. The URL may hold a password: kept out of repr and logs.
    replay_store: str = dataclasses.field(default="memory", repr=False)
    # With a shared store, how long a published signature is remembered: longer than
    # Sinch's retry horizon (docs/sinch.md, section 2), so no retry is published again.
    replay_horizon_seconds: Annotated[int, Meta(ge=60)] = 48 * 3600
    basic_routes: tuple[str, ...] = ()
    basic_credentials: tuple[Secret, ...] = ()  # "user:password"
    basic_credentials_file: str = ""
    oauth_routes: tuple[str, ...] = ()
    oauth_clients: tuple[Secret, ...] = ()  # "client_id:client_secret"
    oauth_clients_file: str = ""
    oauth_token_keys: tuple[Secret, ...] = ()  # the first signs tokens, all verify
    oauth_token_keys_file: str = ""
    oauth_token_path: str = "/oauth/token"
    oauth_token_ttl_seconds: Annotated[int, Meta(ge=30, le=3600)] = 900
    oauth_token_grace_seconds: Annotated[int, Meta(ge=0)] = 300
    # Wrong client secrets allowed per window, then 429 until the window ends.
    oauth_token_failures_per_source: Annotated[int, Meta(ge=1)] = 10
    oauth_token_failures_per_client: Annotated[int, Meta(ge=1)] = 50
    oauth_token_failure_window_seconds: Annotated[int, Meta(ge=1)] = 60
    allow_cidrs: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes_delivery_reports: Annotated[int, Meta(ge=0)] = 0
    max_body_bytes_inbound: Annotated[int, Meta(ge=0)] = 0
    # Finite by default: a stalled body must not hold its connection and buffer forever.
    body_timeout_seconds: Annotated[float, Meta(ge=0)] = 15.0
    # All request bodies held at once (declared size, or the route's limit if chunked).
    max_held_body_bytes: Annotated[int, Meta(ge=1024)] = 64 * 1024 * 1024
    # Bodies this large share a parsing budget, so they cannot starve small callbacks.
    large_body_bytes: Annotated[int, Meta(ge=1024)] = 64 * 1024
    # Share of each second the event loop may spend parsing large bodies.
    large_body_parse_share: Annotated[float, Meta(ge=0.01, le=1)] = 0.25
    idle_timeout_seconds: Annotated[float, Meta(ge=0.1)] = 75.0
    max_header_count: Annotated[int, Meta(ge=8)] = 64
    max_header_bytes: Annotated[int, Meta(ge=256)] = 8190
    max_request_line_bytes: Annotated[int, Meta(ge=256)] = 8190
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    tls_client_cert: Literal["none", "optional", "required"] = "none"

    def __post_init__(self) -> None:
        check_replay_store(self.replay_store)


def check_replay_store(value: str) -> None:
    """`ConfigError` unless `value` is "memory" or a Redis URL (never echoed: a password)."""
    scheme = value.partition("://")[0].lower() if "://" in value else ""
    if value != "memory" and scheme not in ("redis", "rediss"):
        key, var = "security.replay_store", env_var("security", "replay_store")
        raise ConfigError(
            f"invalid setting {key} ({var}): must be 'memory' or a redis:// or rediss:// URL"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class QuarantineSettings:
    """Callbacks edge security refused, kept for `relay quarantine redrive` (docs/recovery.md).

    The queue is declared with these bounds (oldest dropped first); a queue declared with
    other bounds is left as it is and the relay says so once (docs/security.md).
    """

    enabled: bool = True
    max_messages: Annotated[int, Meta(ge=1)] = 10_000
    max_bytes: Annotated[int, Meta(ge=1024)] = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ArchiveSettings:
    """The archive stream (topology.archive): off by default; docs/recovery.md."""

    enabled: bool = False
    # RabbitMQ's x-max-age syntax: a number and one of Y, M, D, h, m, s.
    max_age: Annotated[str, Meta(pattern=r"^[1-9][0-9]*[YMDhms]$")] = "7D"
    max_bytes: Annotated[int, Meta(ge=1)] = 10 * 1024**3
    # Retention drops whole segments: smaller segments trim closer to the limits.
    segment_bytes: Annotated[int, Meta(ge=1024, le=3 * 1024**3)] = 100 * 1024**2


@dataclasses.dataclass(frozen=True, slots=True)
class SinchSettings:
    """Sinch's REST API, for `relay backfill` (docs/recovery.md)."""

    api_url: str = "https://us.sms.api.sinch.com"
    service_plan_id: str = ""
    api_token: Secret = Secret("")  # empty: not configured; sent as a Bearer token


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    http: HttpSettings = HttpSettings()
    amqp: AmqpSettings = AmqpSettings()
    topology: TopologySettings = TopologySettings()
    logging: LoggingSettings = LoggingSettings()
    shutdown: ShutdownSettings = ShutdownSettings()
    security: SecuritySettings = SecuritySettings()
    quarantine: QuarantineSettings = QuarantineSettings()
    archive: ArchiveSettings = ArchiveSettings()
    sinch: SinchSettings = SinchSettings()
    accounts: tuple[AccountSettings, ...] = ()

    def __post_init__(self) -> None:
        check_accounts(self.accounts, self.http.default_paths)


SECTIONS = tuple(
    Section(name, cls, f"RELAY_{name}")
    for name, cls in typing.get_type_hints(Settings).items()
    if name != "accounts"
)
"""The relay's sections, in order; `[consumers]` is the workers' table (consumers/config.py)."""

FOREIGN_TABLES = frozenset({"consumers"})


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (TOML, optional) and the `RELAY_*` variables of `environ` once."""
    env = os.environ if environ is None else environ
    raw = read_toml(path)
    reject_unknown(raw, {s.table for s in SECTIONS} | FOREIGN_TABLES | {"accounts"})
    return Settings(
        **{s.table: load_section(s, raw.get(s.table, {}), env) for s in SECTIONS},
        accounts=load_accounts(raw.get("accounts", {}), env),
    )


def relay_section(name: str) -> Section:
    """The relay's section `name` (the consumers load `amqp` to share the broker)."""
    return next(s for s in SECTIONS if s.table == name)


def env_var(section: str, key: str) -> str:
    """The environment variable that overrides `section.key`."""
    return f"RELAY_{section}_{key}".upper()


def environment(section: str, values: Any) -> dict[str, str]:
    """The `RELAY_*` variables that reproduce a settings section (secrets and lists left out).

    For starting a relay process with the same section as an in-process settings object,
    as tests, the benchmark and the fault suite do.
    """
    return {
        env_var(section, f.name): str(value).lower() if isinstance(value, bool) else str(value)
        for f in dataclasses.fields(values)
        if isinstance(value := getattr(values, f.name), str | int | float)
    }


__all__ = ["ConfigError", "Secret", "Settings", "env_var", "load_settings"]
