"""Worker settings: the `[consumers]` table and `CONSUMER_*` variables, through the relay's loader.

Every field of `WorkerSettings` has a variable `CONSUMER_<FIELD>` in upper case, e.g.
`CONSUMER_PREFETCH=256` or `CONSUMER_RETRY_DELAYS=1,5,30`, and a key in the `[consumers]`
table of the deployment's TOML file (`[consumers.inbound]` / `[consumers.delivery-reports]`
override it per kind). The rules are the relay's (relay/config/loader.py): env over TOML,
`*_file` twins for secrets, bounds, unknown keys refused. The broker is set once: without a
`CONSUMER_AMQP_*` setting the workers use the relay's `[amqp]` / `RELAY_AMQP_*` addresses.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from msgspec import Meta

from consumers.store.address import StoreError
from consumers.store.address import parse as store_address
from relay.config import DEFAULT_AMQP_URL, ConfigError, Secret, TopologySettings
from relay.config.loader import Section, given, load_section, not_a_setting, read_toml
from relay.config.settings import relay_section
from relay.contract.routing import Flow, types_of

DEFAULT_STORE_URL = "sqlite:///consumers.sqlite3"
TABLE = "consumers"
Positive = Annotated[float, Meta(gt=0)]


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
    kind: WorkerKind = dataclasses.field(
        default=WorkerKind.DELIVERY_REPORTS, metadata=not_a_setting()
    )
    amqp_url: Secret = Secret(DEFAULT_AMQP_URL)
    # Several brokers (cluster nodes), tried in turn on (re)connect; overrides `amqp_url`.
    amqp_urls: tuple[Secret, ...] = ()
    connection_name: str = ""
    # As the relay's amqp.reconnect_interval / max_reconnect_interval: the first start-up
    # retry waits `reconnect_interval`, each next one twice as long, up to the maximum.
    reconnect_interval: Annotated[float, Meta(ge=0.01)] = 1.0
    max_reconnect_interval: Annotated[float, Meta(ge=0.01)] = 2.0
    queue: Annotated[str, Meta(min_length=1)] = ""
    queue_type: Literal["quorum", "classic"] = "quorum"
    binding_keys: Annotated[tuple[str, ...], Meta(min_length=1)] = ()
    declare_exchange: bool = True
    prefetch: Annotated[int, Meta(ge=1)] = 512
    batch_size: Annotated[int, Meta(ge=1)] = 256
    batch_wait: Annotated[float, Meta(ge=0)] = 0.01
    retry_delays: Annotated[tuple[Positive, ...], Meta(min_length=1)] = (
        1.0, 5.0, 30.0, 120.0, 600.0,
    )  # fmt: skip
    max_attempts: Annotated[int, Meta(ge=1)] = 6
    delivery_limit: int = 50
    shutdown_timeout: Annotated[float, Meta(ge=0)] = 10.0
    settle_grace: Annotated[float, Meta(ge=0)] = 0.3
    store_url: Secret = Secret(DEFAULT_STORE_URL)
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    http_port: Annotated[int, Meta(ge=0, le=65535)] = 0
    http_host: str = "127.0.0.1"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    exchange: Annotated[str, Meta(min_length=1)] = ""
    unrouted_exchange: str = TopologySettings().unrouted

    def addresses(self) -> tuple[Secret, ...]:
        """Every broker address to try, in order (as the relay's `AmqpSettings.addresses`)."""
        return self.amqp_urls or (self.amqp_url,)

    @property
    def topology(self) -> TopologySettings:
        """The relay's names, with this worker's exchange in its channel's place."""
        names = TopologySettings(unrouted=self.unrouted_exchange)
        if self.kind is WorkerKind.DELIVERY_REPORTS:
            return dataclasses.replace(names, delivery_reports=self.exchange)
        return dataclasses.replace(names, inbound=self.exchange)


SECTION = Section(TABLE, WorkerSettings, "CONSUMER")
BROKER = ("amqp_url", "amqp_urls")


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
    return SECTION.var(field)


def setting_error(field: str, detail: str) -> ConfigError:
    """A problem with one setting, named as the loader names it: key and variable."""
    return ConfigError(f"setting {SECTION.key(field)} ({SECTION.var(field)}): {detail}")


def config_path(environ: Mapping[str, str], default: Path) -> Path | None:
    """The deployment's TOML file: `CONSUMER_CONFIG`, else the relay's (`relay serve`'s rule)."""
    path = environ.get("CONSUMER_CONFIG") or environ.get("RELAY_CONFIG")
    if path:
        return Path(path)
    return default if default.exists() else None


def load_settings(
    kind: WorkerKind, environ: Mapping[str, str] | None = None, path: Path | None = None
) -> WorkerSettings:
    """Per-kind defaults overridden by `path`'s `[consumers]` table and `CONSUMER_*`."""
    env = os.environ if environ is None else environ
    raw = read_toml(path)
    table = _table_for(kind, raw.get(TABLE, {}))
    settings: WorkerSettings = load_section(SECTION, table, env, base=defaults_for(kind))
    _check_store_url(settings.store_url)
    if any(given(SECTION, table, env, name) for name in BROKER):
        return settings
    return _with_relay_broker(settings, raw.get("amqp", {}), env)


def _check_store_url(url: Secret) -> None:
    try:
        store_address(url.reveal())
    except StoreError as exc:
        raise setting_error("store_url", str(exc)) from None


def _table_for(kind: WorkerKind, table: Any) -> Any:
    """`[consumers]` with `[consumers.<kind>]` laid over it; the other kind's table dropped."""
    if not isinstance(table, dict):
        return table
    kinds = {k.value for k in WorkerKind}
    common = {key: value for key, value in table.items() if key not in kinds}
    own = table.get(kind.value, {})
    if not isinstance(own, dict):
        raise ConfigError(f"setting {TABLE}.{kind.value} must be a table")
    return common | own


def _with_relay_broker(
    settings: WorkerSettings, raw: Any, env: Mapping[str, str]
) -> WorkerSettings:
    """The relay's broker addresses: one deployment sets the broker once."""
    amqp = load_section(relay_section("amqp"), raw, env)
    return dataclasses.replace(settings, amqp_url=amqp.url, amqp_urls=amqp.urls)


__all__ = ["ConfigError", "WorkerKind", "WorkerSettings", "defaults_for", "load_settings"]
