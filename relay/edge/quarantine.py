"""Keep what edge security refused, so `relay quarantine redrive` can re-check it later.

The refusal stands: the answer is 401/403 whatever happens here. Bounded on every side:
at most `MAX_BUSY` refused requests are being kept at once (more are counted and not
kept), a body is read only within the route's size limit and `READ_SECONDS` (and the
app's body budget, reserved before any handler runs), and the publish runs after the
answer, on the quarantine's own connection, for at most `PUBLISH_SECONDS`. A failure is
counted, and logged once until a publish succeeds again.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import structlog
from aiohttp import web
from pamqp.common import FieldTable
from prometheus_client import Counter

from relay.callback.envelope import encodable
from relay.config import Settings
from relay.contract import message
from relay.edge.auth.kept import keep
from relay.edge.body import read_body
from relay.edge.keys import REQUEST_ID

log = structlog.get_logger("relay.quarantine")

MAX_BUSY = 32
READ_SECONDS = 2.0
PUBLISH_SECONDS = 1.0
# What a re-check and the rebuilt message need; never Authorization, Cookie & co.
KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-request-id",
    "traceparent",
    "tracestate",
    *message.SIGNATURE_HEADERS,
)


class Sink(Protocol):
    """Where kept callbacks go (relay.amqp.quarantine.QuarantineSink)."""

    async def publish(self, body: bytes, headers: FieldTable) -> None: ...


class Quarantine:
    """The edge side of the quarantine; `sink` is attached when the app starts."""

    def __init__(self, settings: Settings, max_body: int, kept: Counter, dropped: Counter) -> None:
        """`max_body`: the app-wide body cap, for routes without a limit of their own."""
        self.sink: Sink | None = None
        self._max_body = max_body
        self._forward = settings.http.forward_headers
        self._read_seconds = min(
            settings.security.body_timeout_seconds or READ_SECONDS, READ_SECONDS
        )
        self._kept, self._dropped = kept, dropped
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy = 0
        self._failing = False

    async def hold(
        self, request: web.Request, route: str, reason: str, max_body: int | None
    ) -> None:
        """Keep this refused request if the bounds allow; never raises, never waits long."""
        if self.sink is None:
            return
        if self._busy >= MAX_BUSY:
            self._dropped.labels("busy").inc()
            return
        self._busy += 1
        try:
            body = await self._body(request, max_body or self._max_body)
            headers = None if body is None else self._headers(request, reason)
        except Exception:  # slow, gone, over the budget, odd: not kept, still refused
            self._dropped.labels("unreadable").inc()
            body = headers = None
        if body is None or headers is None:
            self._busy -= 1
            return
        task = asyncio.create_task(self._publish(self.sink, body, headers, route, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Let publishes in flight finish (each is bounded anyway), then stop."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=PUBLISH_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _body(self, request: web.Request, limit: int) -> bytes | None:
        if (request.content_length or 0) > limit:
            self._dropped.labels("too_large").inc()
            return None
        body = await read_body(request, self._read_seconds)
        if len(body) > limit:
            self._dropped.labels("too_large").inc()
            return None
        return body

    def _headers(self, request: web.Request, reason: str) -> FieldTable:
        given = request.headers
        kept: FieldTable = {}
        for name in (*KEPT_HEADERS, *self._forward):
            value = given.get(name)
            if value is not None:
                kept[name] = encodable(value)
        forwarded = given.getall("X-Forwarded-For", [])
        if forwarded:
            kept["x-forwarded-for"] = encodable(", ".join(forwarded))
        headers: FieldTable = {
            message.QUARANTINE_REASON: reason,
            message.RELAY_PATH: request.path,
            message.REQUEST_ID: request[REQUEST_ID],
            message.QUARANTINE_PEER: request.remote or "",
            message.QUARANTINE_HEADERS: kept,
        }
        credential = keep(given.get("Authorization"))
        if credential is not None:
            headers[message.QUARANTINE_CREDENTIAL] = credential
        return headers

    async def _publish(
        self, sink: Sink, body: bytes, headers: FieldTable, route: str, reason: str
    ) -> None:
        try:
            async with asyncio.timeout(PUBLISH_SECONDS):
                await sink.publish(body, headers)
        except Exception as exc:
            self._dropped.labels("publish_failed").inc()
            if not self._failing:
                log.warning("quarantine.publish_failed", error=exc.__class__.__name__)
            self._failing = True
        else:
            self._kept.labels(route, reason).inc()
            self._failing = False
        finally:
            self._busy -= 1
