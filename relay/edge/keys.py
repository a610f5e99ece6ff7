"""Typed keys for everything that hangs off the aiohttp app and request.

The `Publisher` seam is declared here, beside its key, so that typing a key never
imports the AMQP stack.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from aiohttp import web

from relay.callback.envelope import Outgoing
from relay.callback.ids import IdSource
from relay.config import Settings
from relay.edge.body import BodyBudget, ParseBudget
from relay.telemetry.metrics import Metrics
from relay.telemetry.tracing import Tracer


class Publisher(Protocol):
    """The seam between the HTTP edge and the broker.

    `readiness()` reports `connected`, `channel_open`, `not_blocked` and `accepting`
    (False once closing); `in_flight` counts publishes awaiting their confirm.
    tests/contract/test_publisher_contract.py holds every implementation to this.
    """

    @property
    def in_flight(self) -> int: ...

    def readiness(self) -> dict[str, bool]: ...

    async def publish(self, message: Outgoing) -> None: ...


@dataclasses.dataclass(slots=True)
class Lifecycle:
    """Mutable process state: set to draining on SIGTERM, read by every request."""

    draining: bool = False


class Dependency(Protocol):
    """Something besides the broker that readiness waits on (the shared replay store)."""

    async def ready(self) -> bool: ...


@dataclasses.dataclass(slots=True)
class Dependencies:
    """Readiness checks by name, beside the publisher's: /readyz reports each."""

    checks: dict[str, Dependency] = dataclasses.field(default_factory=dict)


SETTINGS = web.AppKey("settings", Settings)
PUBLISHER = web.AppKey("publisher", Publisher)
METRICS = web.AppKey("metrics", Metrics)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
TRACER = web.AppKey("tracer", Tracer)
IDS = web.AppKey("ids", IdSource)
BODY_BUDGET = web.AppKey("body_budget", BodyBudget)
PARSE_BUDGET = web.AppKey("parse_budget", ParseBudget)
DEPENDENCIES = web.AppKey("dependencies", Dependencies)

# Per-request: fields the handler adds to the one canonical log line.
LogFields = dict[str, Any]
LOG_FIELDS = web.RequestKey("log_fields", LogFields)
REQUEST_ID = web.RequestKey("request_id", str)
