"""Typed keys for everything that hangs off the aiohttp app and request."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from relay.amqp.publisher import Publisher
from relay.callback.ids import IdSource
from relay.config import Settings
from relay.telemetry.metrics import Metrics
from relay.telemetry.tracing import Tracer


@dataclasses.dataclass(slots=True)
class Lifecycle:
    """Mutable process state: set to draining on SIGTERM, read by every request."""

    draining: bool = False


SETTINGS = web.AppKey("settings", Settings)
PUBLISHER = web.AppKey("publisher", Publisher)
METRICS = web.AppKey("metrics", Metrics)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
TRACER = web.AppKey("tracer", Tracer)
IDS = web.AppKey("ids", IdSource)

# Per-request: fields the handler adds to the one canonical log line.
LogFields = dict[str, Any]
LOG_FIELDS = web.RequestKey("log_fields", LogFields)
REQUEST_ID = web.RequestKey("request_id", str)
