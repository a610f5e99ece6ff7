"""The unrouted queue, looked at and re-driven: `relay unrouted list|redrive`.

A message lands in the unrouted queue when no queue was bound for its type (the channel
exchanges' alternate exchange), or the edge could not route it (unknown type, missing
fields: `x-unrouted-reason`). Re-driving publishes again what the current code routes,
to its channel exchange with confirms, same body and `x-dedup-key`, and acks the
original only then.

Whether a queue is bound now is something AMQP only tells by publishing: a message no
queue takes goes to the alternate exchange again, not back to the publisher. So a
private probe queue is bound to the unrouted exchange for the run: a republished copy
that shows up there found no queue, the copy now waits in the unrouted queue in place of
the original, and the rest of that type is left where it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from relay.callback.validation import classify
from relay.config import TopologySettings
from relay.contract import message as names_of
from relay.contract.message import APP_ID, PERSISTENT, RELAY_SOURCE
from relay.contract.routing import exchange_for
from relay.edge.auth.authenticator import STALE_REASON
from relay.errors import BadRequest
from relay.recovery import listing
from relay.recovery.broker import peek, publish_confirmed, waiting
from relay.recovery.console import Progress

NO_BINDING = "no_binding"  # what the list shows when no `x-unrouted-reason` is set

REPUBLISHED = "republished"
WOULD = "routable (queue bindings only tested when publishing)"
STILL_UNBOUND = "still without a bound queue"
NOT_ROUTABLE = "not routable"
STALE = "stale signature (left for a person)"
OTHER_TYPE = "of another type"


@dataclasses.dataclass(frozen=True, slots=True)
class Redrive:
    """One run: which types (None: all), how many messages at most, whether to publish."""

    names: TopologySettings
    types: frozenset[str] | None = None
    limit: int = 10_000
    dry_run: bool = False
    would: list[list[str]] = dataclasses.field(default_factory=list)  # dry run: what


async def rows(channel: AbstractChannel, queue: str, limit: int) -> list[list[str]]:
    """type, reason, request id, Sinch id, age of up to `limit` waiting messages."""
    now = datetime.datetime.now(datetime.UTC)
    return [_row(m, now) async for m in peek(channel, queue, limit)]


HEADER = ("type", "reason", "request id", "sinch id", "age")


def _row(held: AbstractIncomingMessage, now: datetime.datetime) -> list[str]:
    headers = held.headers or {}
    return [
        _type_of(held),
        listing.text(headers, names_of.UNROUTED_REASON, NO_BINDING),
        listing.text(headers, names_of.REQUEST_ID),
        listing.sinch_ref(held.body),
        listing.age(held.timestamp, now),
    ]


def _type_of(held: AbstractIncomingMessage) -> str:
    given = (held.headers or {}).get(names_of.SINCH_TYPE)
    return listing.text({"t": given or held.type or held.routing_key or "-"}, "t")


async def planned(channel: AbstractChannel, run: Redrive) -> int:
    """What waits now, at most the limit: copies put back during the run are not seen."""
    return min(await waiting(channel, run.names.unrouted), run.limit)


async def redrive(
    channel: AbstractChannel, run: Redrive, total: int, progress: Progress, counts: Counter[str]
) -> None:
    """Re-drive the first `total` messages, counting each outcome into `counts` (so a
    failed publish still leaves the count of what was done)."""
    unbound: set[str] = set()
    async with _probe(channel, run.names) as probe:
        async for held in peek(channel, run.names.unrouted, total):
            counts[await _one(channel, run, held, probe, unbound)] += 1
            progress.advance()


async def _one(
    channel: AbstractChannel,
    run: Redrive,
    held: AbstractIncomingMessage,
    probe: AbstractQueue,
    unbound: set[str],
) -> str:
    target = _target(held, run)
    if isinstance(target, str):
        return target
    exchange, type_ = target
    if type_ in unbound:
        return STILL_UNBOUND
    if run.dry_run:
        request_id = listing.text(held.headers or {}, names_of.REQUEST_ID)
        run.would.append([request_id, type_, exchange])
        return WOULD
    copy = republished(held, type_, "unrouted")
    await publish_confirmed(channel, exchange, type_, copy)
    if await _came_back(probe, copy.message_id):
        unbound.add(type_)
        await held.ack()  # its copy waits in the unrouted queue in its place
        return STILL_UNBOUND
    await held.ack()
    return REPUBLISHED


def _target(held: AbstractIncomingMessage, run: Redrive) -> tuple[str, str] | str:
    """(exchange, routing key) the current code routes `held` to, or why it stays."""
    if (held.headers or {}).get(names_of.UNROUTED_REASON) == STALE_REASON:
        return STALE
    try:
        event = classify(held.body)
    except BadRequest:
        return NOT_ROUTABLE
    if event.unrouted_reason is not None or event.flow is None:
        return NOT_ROUTABLE
    if run.types is not None and event.type not in run.types:
        return OTHER_TYPE
    return exchange_for(run.names, event.flow), event.type


def republished(held: AbstractIncomingMessage, type_: str, source: str) -> aio_pika.Message:
    """`held` as the relay publishes a routable callback: same body, same `x-dedup-key`
    and request id, no unrouted reason, `x-relay-source: <source>`, a new message id."""
    headers = dict(held.headers or {})
    for name in (names_of.UNROUTED_REASON, names_of.SINCH_TYPE):
        headers.pop(name, None)
    headers[RELAY_SOURCE] = source
    return aio_pika.Message(
        held.body,
        headers=headers,
        content_type=held.content_type,
        delivery_mode=PERSISTENT,
        message_id=uuid.uuid4().hex,
        correlation_id=held.correlation_id,
        timestamp=held.timestamp,
        type=type_,
        app_id=APP_ID,
    )


async def _came_back(probe: AbstractQueue, message_id: str | None) -> bool:
    """Whether the copy `message_id` reached the probe (it is confirmed: it is there)."""
    found = False
    while (seen := await probe.get(no_ack=True, fail=False)) is not None:
        found |= seen.message_id == message_id
    return found


@contextlib.asynccontextmanager
async def _probe(channel: AbstractChannel, names: TopologySettings) -> AsyncIterator[AbstractQueue]:
    """A private queue on the unrouted exchange for one run (see the module docstring)."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(names.unrouted, routing_key="")
    try:
        yield queue
    finally:
        if not channel.is_closed:
            await queue.delete(if_unused=False, if_empty=False)
