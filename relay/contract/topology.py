"""The relay's exchanges and its unrouted queue: declared at start-up, or checked.

Both channel exchanges are durable topic exchanges whose alternate exchange is the
unrouted fanout exchange, bound to a durable queue of the same name: a message that no
downstream queue is bound for yet is kept there, never confirmed into the void.

The quarantine queue (callbacks edge security refused) is bound to no exchange: only the
edge publishes to it, by the default exchange, and nothing reaches a consumer from it
but through `relay quarantine redrive`.

With `archive.enabled`, a stream (`topology.archive`) bound to nothing: the relay writes a
second copy of each message to it through the default exchange. Bound to the channel
exchanges it would match every message, and their alternate exchange would never fire
(docs/recovery.md, "How the archive is wired").
"""

from __future__ import annotations

import aiormq
from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from pamqp.common import FieldTable

from relay.config import ArchiveSettings, QuarantineSettings, TopologySettings
from relay.contract.routing import Flow, exchange_for


class TopologyMissing(RuntimeError):
    """A passive check found an exchange or queue absent (or declared differently)."""


RETENTION_DIFFERS = "archive stream {!r} exists with other retention arguments (docs/recovery.md)"
BOUNDS_DIFFER = (
    "quarantine queue {!r} exists with other type or bounds: the relay uses it as it is; "
    "to change them, redrive or purge it, delete it and declare again (docs/security.md)"
)


def channel_exchange_arguments(names: TopologySettings) -> FieldTable:
    """Arguments every channel exchange is declared with (consumers must match them)."""
    return {"alternate-exchange": names.unrouted}


def quarantine_arguments(queue: QuarantineSettings, queue_type: str) -> FieldTable:
    """The quarantine's bounds: length and bytes, the oldest dropped first."""
    return {
        "x-queue-type": queue_type,
        "x-max-length": queue.max_messages,
        "x-max-length-bytes": queue.max_bytes,
        "x-overflow": "drop-head",
    }


async def declare_quarantine(
    channel: AbstractChannel, queue: QuarantineSettings, names: TopologySettings
) -> None:
    """Create (idempotently) the bounded quarantine queue, of the unrouted queue's type."""
    arguments = quarantine_arguments(queue, names.unrouted_queue_type)
    await channel.declare_queue(names.quarantine, durable=True, arguments=arguments)


def archive_arguments(archive: ArchiveSettings) -> FieldTable:
    """The archive stream's type and retention (by age and bytes, whole segments)."""
    return {
        "x-queue-type": "stream",
        "x-max-age": archive.max_age,
        "x-max-length-bytes": archive.max_bytes,
        "x-stream-max-segment-size-bytes": archive.segment_bytes,
    }


async def declare(
    channel: AbstractChannel,
    names: TopologySettings,
    quarantine: QuarantineSettings | None = None,
    archive: ArchiveSettings | None = None,
) -> None:
    """Create (idempotently) the unrouted exchange and queue, both channel exchanges, with
    `quarantine` enabled its queue, and with `archive` enabled the archive stream."""
    unrouted = await channel.declare_exchange(names.unrouted, ExchangeType.FANOUT, durable=True)
    queue = await channel.declare_queue(
        names.unrouted, durable=True, arguments={"x-queue-type": names.unrouted_queue_type}
    )
    await queue.bind(unrouted, routing_key="")
    for channel_ in Flow:
        await declare_channel_exchange(channel, names, channel_)
    if archive is not None and archive.enabled:
        try:
            await declare_stream(channel, names, archive)
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            raise TopologyMissing(RETENTION_DIFFERS.format(names.archive)) from exc
    if quarantine is not None and quarantine.enabled:  # last: it closes the channel if it fails
        try:
            await declare_quarantine(channel, quarantine, names)
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            raise TopologyMissing(BOUNDS_DIFFER.format(names.quarantine)) from exc


async def declare_archive(
    connection: AbstractConnection, names: TopologySettings, archive: ArchiveSettings
) -> bool:
    """Declare the archive stream on a channel of its own; False if it already exists with
    other retention (RabbitMQ keeps a queue's arguments: delete it to change them)."""
    channel = await connection.channel()
    try:
        await declare_stream(channel, names, archive)
    except aiormq.exceptions.ChannelPreconditionFailed:
        return False
    finally:
        if not channel.is_closed:
            await channel.close()
    return True


async def declare_stream(
    channel: AbstractChannel, names: TopologySettings, archive: ArchiveSettings
) -> None:
    """The archive stream, with the retention of `archive` (PRECONDITION_FAILED if it
    exists with other arguments; the channel is then closed)."""
    await channel.declare_queue(names.archive, durable=True, arguments=archive_arguments(archive))


async def declare_channel_exchange(
    channel: AbstractChannel, names: TopologySettings, which: Flow
) -> AbstractExchange:
    """Declare one channel exchange exactly as the relay does; safe to call from consumers."""
    return await channel.declare_exchange(
        exchange_for(names, which),
        ExchangeType.TOPIC,
        durable=True,
        arguments=channel_exchange_arguments(names),
    )


async def check(
    channel: AbstractChannel,
    names: TopologySettings,
    quarantine: QuarantineSettings | None = None,
    archive: ArchiveSettings | None = None,
) -> None:
    """Passively verify everything `declare` would create; raise `TopologyMissing` if not."""
    for name in (names.unrouted, names.delivery_reports, names.inbound):
        await _passive(channel, name, is_queue=False)
    await _passive(channel, names.unrouted, is_queue=True)
    if quarantine is not None and quarantine.enabled:
        await _passive(channel, names.quarantine, is_queue=True)
    if archive is not None and archive.enabled:
        await _passive(channel, names.archive, is_queue=True)


async def _passive(channel: AbstractChannel, name: str, *, is_queue: bool) -> None:
    try:
        if is_queue:
            await channel.declare_queue(name, passive=True)
        else:
            await channel.get_exchange(name, ensure=True)
    except Exception as exc:  # aiormq closes the channel with 404 NOT_FOUND
        kind = "queue" if is_queue else "exchange"
        raise TopologyMissing(f"{kind} {name!r} does not exist") from exc
