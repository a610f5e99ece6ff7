"""The callback endpoints: read once, classify, build the envelope, publish, answer.

request -> validation -> envelope -> publisher -> response; errors are raised as
`RelayError`s and turned into responses by the error middleware alone.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from relay.callback import envelope
from relay.callback.validation import Event, classify
from relay.contract.message import MISROUTED
from relay.contract.routing import Flow
from relay.edge._aiohttp import JsonOk
from relay.edge.body import ParseBudget, read_body
from relay.edge.keys import (
    IDS,
    LIFECYCLE,
    LOG_FIELDS,
    METRICS,
    PARSE_BUDGET,
    PUBLISHER,
    REQUEST_ID,
    SETTINGS,
    TRACER,
    LogFields,
)
from relay.errors import ShuttingDown
from relay.telemetry.metrics import Metrics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ACCEPTED = b'{"status":"accepted"}'


def callback_handler(
    path_flow: Flow | None,
    unrouted_reason: str | None = None,
    *,
    stale: bool = False,
    account: str = "",
) -> Handler:
    """A handler for one URL; `path_flow` is what that URL promises (None: any), `account`
    the Sinch account whose path it is (its messages carry `x-sinch-account`).

    With `unrouted_reason`, every callback goes to the unrouted exchange with that reason
    (edge security uses it to quarantine what it must neither drop nor trust). With
    `stale`, messages carry `x-signature-stale: true` (a genuine signature outside its
    window, never published before: docs/security.md).
    """

    async def handle(request: web.Request) -> web.Response:
        app = request.app  # a property lookup each time: read it once
        if app[LIFECYCLE].draining:
            raise ShuttingDown("relay is shutting down")
        # Within security.body_timeout_seconds; instant when a guard has read it already.
        body = await read_body(request, app[SETTINGS].security.body_timeout_seconds)
        event = _classify(body, app[PARSE_BUDGET])
        if unrouted_reason is not None:
            event = event._replace(unrouted_reason=unrouted_reason)
        path, headers = request.path, request.headers  # properties: read once
        with app[TRACER].callback_span(headers, f"POST {path}") as trace:
            fields = request[LOG_FIELDS]
            fields["trace_id"] = trace.trace_id
            received = envelope.received_from(
                (
                    request[REQUEST_ID],
                    app[IDS].next(),
                    path,
                    path_flow,
                    headers,
                    trace,
                    stale,
                    account,
                )
            )
            settings, metrics = app[SETTINGS], app[METRICS]
            http = settings.http
            message = envelope.build(
                event,
                body,
                received,
                settings.topology,
                http.forward_headers,
                signature=http.forward_signature,
            )
            _note(fields, metrics, event, message, MISROUTED in message.headers)
            started = time.perf_counter()
            await app[PUBLISHER].publish(message)
            metrics.publish_seconds.observe(time.perf_counter() - started)
        return JsonOk(body=ACCEPTED, content_type="application/json")

    return handle


def _classify(body: bytes, budget: ParseBudget) -> Event:
    """`classify`, charging a large body's parsing time to the shared budget."""
    if not budget.is_large(len(body)):
        return classify(body)
    budget.admit()
    started = time.perf_counter()
    try:
        return classify(body)
    finally:
        budget.charge(time.perf_counter() - started)


def _note(
    fields: LogFields,
    metrics: Metrics,
    event: Event,
    message: envelope.Outgoing,
    misrouted: bool,
) -> None:
    """Add what this request did to its canonical log line and counters."""
    fields.update(
        type=event.type[:64],
        exchange=message.exchange,
        routing_key=message.routing_key[:64],
        dedup_key=event.dedup_key[:16],
    )
    if misrouted:
        fields["misrouted"] = True
        metrics.misrouted.labels(event.type).inc()
    if event.unrouted_reason is not None:
        fields["unrouted_reason"] = event.unrouted_reason
        metrics.unrouted.labels(event.unrouted_reason.split(":", 1)[0]).inc()
