"""Publish what Sinch's list APIs hold as if each callback had arrived (docs/recovery.md).

Each list item already has its callback's shape (the same `type` and fields), so it goes
through the edge's own steps: `classify` gives it the dedup key the callback would have
carried, `build` the exchange and routing key of its type. Consumers that applied the
callback drop the copy as a duplicate; those that missed it apply it. Marked
`x-relay-source: backfill`: the body is Sinch's list JSON re-encoded, not the signed
bytes it would have posted, so it cannot be re-verified downstream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel

from relay.callback import envelope
from relay.callback.ids import IdSource
from relay.callback.validation import classify
from relay.config import TopologySettings
from relay.contract import message as headers
from relay.contract.routing import CATCH_ALL_PATH, FLOW_PATHS
from relay.errors import BadRequest
from relay.recovery.broker import publish_confirmed
from relay.recovery.console import Progress
from relay.recovery.sinch_api import Kind, SinchApi
from relay.recovery.window import Window

SOURCE = "backfill"
LABELS: Mapping[Kind, str] = {"inbounds": "inbound", "delivery_reports": "delivery reports"}


class Plan(NamedTuple):
    window: Window
    kinds: Collection[Kind]
    dry_run: bool
    archive: bool = False  # also keep each in the archive stream, as the edge would


async def backfill(
    api: SinchApi, channel: AbstractChannel | None, names: TopologySettings, plan: Plan
) -> Counter[str]:
    """Page through each kind in `plan` and publish every item (unless a dry run); by type."""
    counts: Counter[str] = Counter()
    ids = IdSource()
    for kind in plan.kinds:
        progress: Progress | None = None
        async for page in api.pages(kind, plan.window):
            progress = progress or Progress(page.total, LABELS[kind])
            for item in page.items:
                outgoing = as_callback(item, names, ids)
                if outgoing is None:
                    counts["(not a callback)"] += 1
                    continue
                if channel is not None and not plan.dry_run:
                    await publish(channel, outgoing, names.archive if plan.archive else None)
                counts[outgoing.message_type or "(no type)"] += 1
                progress.advance()
        if progress is not None:
            progress.close()
    return counts


def as_callback(
    item: Mapping[str, Any], names: TopologySettings, ids: IdSource
) -> envelope.Outgoing | None:
    """The message the edge would publish for `item` as a callback; None if it has no type."""
    body = orjson.dumps(item)
    try:
        event = classify(body)
    except BadRequest:
        return None
    path = FLOW_PATHS[event.flow] if event.flow is not None else CATCH_ALL_PATH
    received = envelope.Received(ids.next(), ids.next(), path, event.flow, {})
    outgoing = envelope.build(event, body, received, names, ())
    outgoing.headers[headers.RELAY_SOURCE] = SOURCE
    return outgoing


async def publish(
    channel: AbstractChannel, outgoing: envelope.Outgoing, archive: str | None
) -> None:
    """To its type's exchange, then (with the archive on) to the archive stream."""
    await publish_confirmed(channel, outgoing.exchange, outgoing.routing_key, message(outgoing))
    if archive is not None:
        await publish_confirmed(channel, "", archive, message(outgoing))


def message(outgoing: envelope.Outgoing) -> aio_pika.Message:
    """`outgoing` as an aio-pika message with the relay's constant properties."""
    return aio_pika.Message(
        outgoing.body,
        headers=outgoing.headers,
        content_type=headers.CONTENT_TYPE,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=outgoing.message_id,
        correlation_id=outgoing.correlation_id,
        timestamp=outgoing.timestamp,
        type=outgoing.message_type,
        app_id=headers.APP_ID,
    )
