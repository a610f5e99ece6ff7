"""The quarantine, looked at and re-driven: `relay quarantine list|redrive`.

relay.recovery.recheck decides; this module lists, publishes and acks. A held callback
that passes is published to the exchange of its type as the edge would have built it
(same body, same `x-dedup-key`) plus `x-relay-source: quarantine`, and acked only once
confirmed; one that fails stays, so a second run publishes nothing again.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections import Counter

import orjson
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from relay.callback import envelope
from relay.callback.validation import classify
from relay.config import Settings
from relay.contract import message as h
from relay.edge.accounts import Route
from relay.errors import BadRequest
from relay.recovery import listing
from relay.recovery.broker import message_of, peek, publish_confirmed, waiting
from relay.recovery.console import Progress
from relay.recovery.recheck import Checks, Held, held_from, recheck

HEADER = ("reason", "route", "type", "sinch id", "age")
PUBLISHED = "published"
WOULD = "would publish"
DUPLICATE = "duplicate of one published (removed)"


def rows_of(held: Held, sent: datetime.datetime | None, now: datetime.datetime) -> list[str]:
    return [
        held.reason,
        held.route,
        type_of(held.body),
        listing.sinch_ref(held.body),
        listing.age(sent, now),
    ]


def type_of(body: bytes) -> str:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "-"
    given = doc.get("type") if isinstance(doc, dict) else None
    return given if isinstance(given, str) else "-"


async def rows(
    channel: AbstractChannel, queue: str, limit: int, reason: str | None
) -> list[list[str]]:
    """Up to `limit` held callbacks (of `reason`, if given); all are left in the queue.

    With `reason`, the whole queue may be read to find them (it is bounded), so a
    progress bar shows the scan on a TTY.
    """
    now, found = datetime.datetime.now(datetime.UTC), []
    total = await waiting(channel, queue)
    progress = Progress(total if reason else None, "scan")
    async for message in peek(channel, queue, total):
        progress.advance()
        held = held_from(message)
        if reason is None or held.reason == reason:
            found.append(rows_of(held, message.timestamp, now))
        if len(found) >= limit:
            break
    progress.close()
    return found


@dataclasses.dataclass(slots=True)
class Redrive:
    """One run over the quarantine; `counts` holds each outcome as it happens."""

    checks: Checks
    dry_run: bool = False
    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    published: set[str] = dataclasses.field(default_factory=set)  # dedup keys, this run
    would: list[list[str]] = dataclasses.field(default_factory=list)  # dry run: what


async def planned(channel: AbstractChannel, settings: Settings, limit: int) -> int:
    return min(await waiting(channel, settings.topology.quarantine), limit)


async def redrive(channel: AbstractChannel, run: Redrive, total: int, progress: Progress) -> None:
    """Re-check the first `total` held callbacks; publish and ack those that pass."""
    queue = run.checks.settings.topology.quarantine
    async for message in peek(channel, queue, total):
        run.counts[await _one(channel, run, message)] += 1
        progress.advance()


async def _one(channel: AbstractChannel, run: Redrive, message: AbstractIncomingMessage) -> str:
    held = held_from(message)
    verdict = recheck(run.checks, held.route, held)
    served = run.checks.route(held.route)
    if not verdict.passed or served is None:
        return f"still refused ({verdict.reason})"
    try:
        outgoing = rebuilt(run.checks.settings, held, served)
    except BadRequest:
        return "still refused (not a callback body)"
    key = str(outgoing.headers[h.DEDUP_KEY])
    if run.dry_run:
        run.would.append([held.request_id, held.route, outgoing.exchange, outgoing.routing_key])
        return WOULD
    if key in run.published:
        await message.ack()
        return DUPLICATE
    await publish_confirmed(channel, outgoing.exchange, outgoing.routing_key, message_of(outgoing))
    run.published.add(key)
    await message.ack()
    return PUBLISHED


def rebuilt(settings: Settings, held: Held, served: Route) -> envelope.Outgoing:
    """The message the edge would have published for `held`, from `x-relay-source:
    quarantine` on; `BadRequest` if its body is no callback at all."""
    event = classify(held.body)
    received = envelope.Received(
        held.request_id,
        uuid.uuid4().hex,
        held.route,
        served.flow,
        held.headers,
        account=served.account,
    )
    http = settings.http
    built = envelope.build(
        event, held.body, received, settings.topology, http.forward_headers,
        signature=http.forward_signature,
    )  # fmt: skip
    return built._replace(headers={**built.headers, h.RELAY_SOURCE: "quarantine"})
