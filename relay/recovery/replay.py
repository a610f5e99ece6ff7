"""Republish a time window of the archive: to one queue, or to every queue bound for it.

Same body, same properties and headers (so the same `x-dedup-key`: consumers drop what
they already applied), plus `x-replayed: true`. To the queue: through the default
exchange, so no other queue sees it. To the exchange: where the relay sent it, its
type's channel exchange with the type as routing key, or the unrouted exchange for a
message the relay sent there (it carries `x-unrouted-reason`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import NamedTuple

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from relay.config import TopologySettings
from relay.contract import message as headers
from relay.contract.routing import ROUTES, exchange_for
from relay.recovery import archive
from relay.recovery.broker import publish_confirmed
from relay.recovery.console import Progress
from relay.recovery.window import Window


class Plan(NamedTuple):
    """What to replay and where to."""

    window: Window
    types: Collection[str]  # empty: every type
    to_queue: str | None  # None: to the exchange each message was first published to
    dry_run: bool


async def replay(
    source: AbstractChannel,
    target: AbstractChannel,
    names: TopologySettings,
    plan: Plan,
    progress: Progress,
) -> Counter[str]:
    """Replay `plan` from the archive on `source` (confirmed on `target`); counts by type."""
    counts: Counter[str] = Counter()
    async for found in archive.read(source, names.archive, plan.window):
        type_ = found.type or ""
        if plan.types and type_ not in plan.types:
            continue
        if not plan.dry_run:
            exchange, routing_key = destination(found, names, plan.to_queue)
            await publish_confirmed(target, exchange, routing_key, replayed(found))
        counts[type_ or "(no type)"] += 1
        progress.advance()
    return counts


def destination(
    found: AbstractIncomingMessage, names: TopologySettings, to_queue: str | None
) -> tuple[str, str]:
    """The exchange and routing key to republish `found` to."""
    if to_queue is not None:
        return "", to_queue
    type_ = found.type or ""
    flow = ROUTES.get(type_)
    if flow is None or headers.UNROUTED_REASON in (found.headers or {}):
        return names.unrouted, type_
    return exchange_for(names, flow), type_


def replayed(found: AbstractIncomingMessage) -> aio_pika.Message:
    """`found` as the relay published it, marked `x-replayed: true`."""
    table = {k: v for k, v in (found.headers or {}).items() if k != archive.OFFSET}
    table[headers.REPLAYED] = True
    return aio_pika.Message(
        found.body,
        headers=table,
        content_type=found.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=found.message_id,
        correlation_id=found.correlation_id,
        timestamp=found.timestamp,
        type=found.type,
        app_id=found.app_id,
    )
