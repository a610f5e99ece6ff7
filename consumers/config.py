"""Worker settings: `CONSUMER_*` environment variables, parsed once at the entry point.

Every field of `WorkerSettings` has a variable `CONSUMER_<FIELD>` in upper case, e.g.
`CONSUMER_PREFETCH=256` or `CONSUMER_RETRY_DELAYS=1,5,30`. The queue name and binding
keys default per worker kind. A value that does not parse raises `ConfigError` naming
the variable.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import typing
from collections.abc import Mapping
from typing import Any, Literal

from relay.config import DEFAULT_AMQP_URL, ConfigError, Secret, TopologySettings
from relay.contract.routing import Flow, types_of

DEFAULT_STORE_URL = "sqlite:///consumers.sqlite3"


class WorkerKind(enum.StrEnum):
    """The two sample workers; each reads one flow of the relay."""

    DELIVERY_REPORTS = "delivery-reports"
    INBOUND = "inbound"

    @property
    def flow(self) -> Flow:
        if self is WorkerKind.DELIVERY_REPORTS:
            return Flow.DELIVERY_REPORTS
        return Flow.INBOUND


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerSettings:
    kind: WorkerKind = WorkerKind.DELIVERY_REPORTS
    amqp_url: Secret = Secret(DEFAULT_AMQP_URL)
    connection_name: str = ""
    queue: str = ""
    queue_type: Literal["quorum", "classic"] = "quorum"
    binding_keys: tuple[str, ...] = ()
    declare_exchange: bool = True
    prefetch: int = 512
    batch_size: int = 256
    batch_wait: float = 0.01
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0)
    max_attempts: int = 6
    delivery_limit: int = 50
    shutdown_timeout: float = 10.0
    settle_grace: float = 0.3
    store_url: Secret = Secret(DEFAULT_STORE_URL)
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    http_port: int = 0
    http_host: str = "127.0.0.1"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    exchange: str = ""
    unrouted_exchange: str = TopologySettings().unrouted

    @property
    def topology(self) -> TopologySettings:
        """The relay's names, with this worker's exchange in its channel's place."""
        names = TopologySettings(unrouted=self.unrouted_exchange)
        if self.kind is WorkerKind.DELIVERY_REPORTS:
            return dataclasses.replace(names, delivery_reports=self.exchange)
        return dataclasses.replace(names, inbound=self.exchange)


def defaults_for(kind: WorkerKind) -> WorkerSettings:
    """Settings with the per-kind queue name, bindings and connection name filled in."""
    name = kind.value.replace("-", "_")
    return WorkerSettings(
        kind=kind,
        connection_name=f"sinch-consumer-{kind.value}",
        queue=f"sinch.consumers.{name}",
        binding_keys=types_of(kind.flow),
        exchange=_relay_exchange(kind),
    )


def _relay_exchange(kind: WorkerKind) -> str:
    names = TopologySettings()
    return names.delivery_reports if kind is WorkerKind.DELIVERY_REPORTS else names.inbound


def env_var(field: str) -> str:
    return f"CONSUMER_{field}".upper()


def load_settings(kind: WorkerKind, environ: Mapping[str, str] | None = None) -> WorkerSettings:
    """Per-kind defaults overridden by the `CONSUMER_*` variables of `environ`."""
    env = os.environ if environ is None else environ
    base = defaults_for(kind)
    hints = typing.get_type_hints(WorkerSettings)
    changes = {
        f.name: _parse(env_var(f.name), hints[f.name], env[env_var(f.name)])
        for f in dataclasses.fields(WorkerSettings)
        if f.name != "kind" and env_var(f.name) in env
    }
    settings = dataclasses.replace(base, **changes)
    _validate(settings)
    return settings


def _validate(s: WorkerSettings) -> None:
    checks = {
        "prefetch": s.prefetch >= 1,
        "batch_size": s.batch_size >= 1,
        "batch_wait": s.batch_wait >= 0,
        "retry_delays": bool(s.retry_delays) and all(d > 0 for d in s.retry_delays),
        "max_attempts": s.max_attempts >= 1,
        "shutdown_timeout": s.shutdown_timeout >= 0,
        "settle_grace": s.settle_grace >= 0,
        "queue": bool(s.queue),
        "binding_keys": bool(s.binding_keys),
        "exchange": bool(s.exchange),
    }
    for field, ok in checks.items():
        if not ok:
            raise ConfigError(f"invalid setting {env_var(field)}")


def _parse(var: str, hint: Any, text: str) -> Any:
    try:
        return _parse_value(hint, text.strip())
    except ValueError as exc:
        raise ConfigError(f"invalid setting {var}: {exc}") from None


def _parse_value(hint: Any, text: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        if text not in typing.get_args(hint):
            raise ValueError(f"expected one of {', '.join(typing.get_args(hint))}")
        return text
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_parse_value(item, p.strip()) for p in text.split(",") if p.strip())
    if hint is bool:
        return _parse_bool(text)
    if hint is Secret:
        if not text:
            raise ValueError("expected a non-empty string")
        return Secret(text)
    return hint(text)


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean, got {text!r}")


__all__ = ["ConfigError", "WorkerKind", "WorkerSettings", "defaults_for", "load_settings"]
