"""Settings: a TOML file plus `RELAY_*` environment overrides, parsed once.

Every setting lives in a section (`[amqp]`, `[http]`, ...). Its environment override is
`RELAY_<SECTION>_<KEY>` in upper case, e.g. `RELAY_AMQP_CONFIRM_TIMEOUT=2.5`. The AMQP URL
is the one exception with a short name of its own: `RELAY_AMQP_URL`. A value that does
not parse stops start-up with a `ConfigError` naming the key and its variable.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the key."""


# Request headers that carry credentials: no setting may forward them to the broker.
NEVER_FORWARD = frozenset({"authorization", "cookie", "proxy-authorization"})
SIGNATURE_HEADERS = "x-sinch-webhook-signature"


class Secret:
    """A string that never shows itself in `repr`, `str` or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _min(value: float) -> dict[str, float]:
    return {"min": value}


@dataclasses.dataclass(frozen=True, slots=True)
class HttpSettings:
    host: str = "0.0.0.0"
    port: int = dataclasses.field(default=8080, metadata=_min(0))
    max_body_bytes: int = dataclasses.field(default=1024 * 1024, metadata=_min(1))
    # Request headers copied into AMQP headers as `http-<name>`; never auth or signatures.
    forward_headers: tuple[str, ...] = ("user-agent", "x-request-id")
    retry_after_seconds: int = dataclasses.field(default=5, metadata=_min(1))

    def __post_init__(self) -> None:
        # Checked once here, not per request: credentials never reach the broker.
        names = tuple(name.lower() for name in self.forward_headers)
        leaking = [n for n in names if n in NEVER_FORWARD or n.startswith(SIGNATURE_HEADERS)]
        if leaking:
            raise ConfigError(
                f"invalid setting http.forward_headers: never forwarded: {', '.join(leaking)}"
            )
        object.__setattr__(self, "forward_headers", names)


@dataclasses.dataclass(frozen=True, slots=True)
class AmqpSettings:
    url: Secret = Secret(DEFAULT_AMQP_URL)
    # Several brokers (cluster nodes), tried in turn on (re)connect; overrides `url`.
    # RELAY_AMQP_URLS="amqp://u:p@node1:5672/,amqp://u:p@node2:5672/"
    urls: tuple[Secret, ...] = ()
    connection_name: str = "sinch-relay"
    confirm_timeout: float = dataclasses.field(default=3.0, metadata=_min(0.001))
    max_in_flight: int = dataclasses.field(default=4096, metadata=_min(1))
    # Confirm channels on the one connection, used round-robin: the broker runs each
    # channel in its own process, so more than one spreads its work over cores.
    channels: int = dataclasses.field(default=1, metadata=_min(1))
    reconnect_interval: float = dataclasses.field(default=1.0, metadata=_min(0.01))
    # Reconnect delays double up to this: short, so the relay is back within seconds of
    # the broker (the fault suite saw 503s linger up to 6 s with a 30 s cap).
    max_reconnect_interval: float = dataclasses.field(default=2.0, metadata=_min(0.01))
    connect_timeout: float = dataclasses.field(default=5.0, metadata=_min(0.01))
    heartbeat: int = dataclasses.field(default=30, metadata=_min(0))
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
    # false: only check passively that the exchanges and the unrouted queue exist.
    declare: bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


@dataclasses.dataclass(frozen=True, slots=True)
class ShutdownSettings:
    # Seconds to keep answering 503 (readiness false) before the listener closes.
    grace: float = dataclasses.field(default=0.0, metadata=_min(0))
    # Upper bound on waiting for in-flight requests and confirms.
    timeout: float = dataclasses.field(default=10.0, metadata=_min(0))


def _range(low: float, high: float) -> dict[str, float]:
    return {"min": low, "max": high}


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
    hmac_tolerance_seconds: int = dataclasses.field(default=300, metadata=_min(1))
    # A valid signature outside the window: relay it to the unrouted exchange, or 401.
    hmac_stale: Literal["unrouted", "reject"] = "unrouted"
    replay_cache_size: int = dataclasses.field(default=100_000, metadata=_min(1))
    # How long a stale signature, once quarantined, is not quarantined again: Sinch's
    # retries span ~46 h (docs/sinch.md), so a bit longer than that.
    stale_memory_seconds: int = dataclasses.field(default=48 * 3600, metadata=_min(1))
    # "memory" (this process only) or a redis:// / rediss:// URL: one memory shared by every
    # process and replica. The URL may hold a password: kept out of repr and logs.
    replay_store: str = dataclasses.field(default="memory", repr=False)
    # With a shared store, how long a published signature is remembered: longer than
    # Sinch's retries (~23 h, docs/sinch.md), so no retry of it is ever published again.
    replay_horizon_seconds: int = dataclasses.field(default=48 * 3600, metadata=_min(60))
    basic_routes: tuple[str, ...] = ()
    basic_credentials: tuple[Secret, ...] = ()  # "user:password"
    basic_credentials_file: str = ""
    oauth_routes: tuple[str, ...] = ()
    oauth_clients: tuple[Secret, ...] = ()  # "client_id:client_secret"
    oauth_clients_file: str = ""
    oauth_token_keys: tuple[Secret, ...] = ()  # the first signs tokens, all verify
    oauth_token_keys_file: str = ""
    oauth_token_path: str = "/oauth/token"
    oauth_token_ttl_seconds: int = dataclasses.field(default=900, metadata=_range(30, 3600))
    oauth_token_grace_seconds: int = dataclasses.field(default=300, metadata=_min(0))
    # Wrong client secrets allowed per window, then 429 until the window ends.
    oauth_token_failures_per_source: int = dataclasses.field(default=10, metadata=_min(1))
    oauth_token_failures_per_client: int = dataclasses.field(default=50, metadata=_min(1))
    oauth_token_failure_window_seconds: int = dataclasses.field(default=60, metadata=_min(1))
    allow_cidrs: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes_delivery_reports: int = dataclasses.field(default=0, metadata=_min(0))
    max_body_bytes_inbound: int = dataclasses.field(default=0, metadata=_min(0))
    # Finite by default: a stalled body must not hold its connection and buffer forever.
    body_timeout_seconds: float = dataclasses.field(default=15.0, metadata=_min(0))
    # All request bodies held at once (declared size, or the route's limit if chunked).
    max_held_body_bytes: int = dataclasses.field(default=64 * 1024 * 1024, metadata=_min(1024))
    # Bodies this large share a parsing budget, so they cannot starve small callbacks.
    large_body_bytes: int = dataclasses.field(default=64 * 1024, metadata=_min(1024))
    # Share of each second the event loop may spend parsing large bodies.
    large_body_parse_share: float = dataclasses.field(default=0.25, metadata=_range(0.01, 1))
    idle_timeout_seconds: float = dataclasses.field(default=75.0, metadata=_min(0.1))
    max_header_count: int = dataclasses.field(default=64, metadata=_min(8))
    max_header_bytes: int = dataclasses.field(default=8190, metadata=_min(256))
    max_request_line_bytes: int = dataclasses.field(default=8190, metadata=_min(256))
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
class Settings:
    http: HttpSettings = HttpSettings()
    amqp: AmqpSettings = AmqpSettings()
    topology: TopologySettings = TopologySettings()
    logging: LoggingSettings = LoggingSettings()
    shutdown: ShutdownSettings = ShutdownSettings()
    security: SecuritySettings = SecuritySettings()


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (TOML, optional) and the `RELAY_*` variables of `environ` once."""
    env = os.environ if environ is None else environ
    raw = _read_toml(path) if path else {}
    _reject_unknown(raw, Settings, "")
    hints = typing.get_type_hints(Settings)
    sections = {
        f.name: _section(f.name, hints[f.name], raw.get(f.name, {}), env)
        for f in dataclasses.fields(Settings)
    }
    return Settings(**sections)


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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _reject_unknown(raw: Mapping[str, Any], cls: Any, prefix: str) -> None:
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"unknown setting {prefix}{key}")


def _section(name: str, cls: Any, raw: Any, env: Mapping[str, str]) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"setting {name} must be a table")
    _reject_unknown(raw, cls, f"{name}.")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        var = env_var(name, f.name)
        if var in env:
            value: Any = env[var]
        elif f.name in raw:
            value = raw[f.name]
        else:
            continue
        values[f.name] = _coerce(f"{name}.{f.name} ({var})", hints[f.name], value, f.metadata)
    _merge_secret_files(name, cls, values)
    return cls(**values)


def _merge_secret_files(name: str, cls: Any, values: dict[str, Any]) -> None:
    """Append the lines of each `<key>_file` to the secret list `<key>`."""
    for f in dataclasses.fields(cls):
        path = values.get(f"{f.name}_file")
        if path:
            extra = _read_secret_lines(f"{name}.{f.name}", path)
            values[f.name] = (*values.get(f.name, ()), *extra)


def _read_secret_lines(key: str, path: str) -> tuple[Secret, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {key}_file {path}: {exc.strerror}") from None
    lines = (line.strip() for line in text.splitlines())
    return tuple(Secret(line) for line in lines if line and not line.startswith("#"))


def _coerce(key: str, hint: Any, value: Any, meta: Mapping[str, Any]) -> Any:
    try:
        result = _PARSERS[_kind(hint)](hint, value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid setting {key}: {exc}") from None
    if "min" in meta and result < meta["min"]:
        raise ConfigError(f"invalid setting {key}: must be >= {meta['min']}, got {result}")
    if "max" in meta and result > meta["max"]:
        raise ConfigError(f"invalid setting {key}: must be <= {meta['max']}, got {result}")
    return result


def _kind(hint: Any) -> Any:
    origin = typing.get_origin(hint)
    return origin if origin in (Literal, tuple) else hint


def _parse_bool(_: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _parse_int(_: Any, value: Any) -> int:
    if isinstance(value, bool | float):
        raise ValueError(f"expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected an integer, got {value!r}") from None


def _parse_float(_: Any, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None


def _parse_str(_: Any, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _parse_secret(_: Any, value: Any) -> Secret:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return Secret(value)


def _parse_literal(hint: Any, value: Any) -> str:
    choices = typing.get_args(hint)
    if value not in choices:
        raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _parse_tuple(hint: Any, value: Any) -> tuple[Any, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError("expected a list of strings")
    strings = tuple(i.strip() for i in items if i.strip())
    if typing.get_args(hint)[0] is Secret:
        return tuple(Secret(i) for i in strings)
    return strings


_PARSERS: dict[Any, Callable[[Any, Any], Any]] = {
    bool: _parse_bool,
    int: _parse_int,
    float: _parse_float,
    str: _parse_str,
    Secret: _parse_secret,
    Literal: _parse_literal,
    tuple: _parse_tuple,
}

__all__ = ["ConfigError", "Secret", "Settings", "env_var", "load_settings"]
