"""The relay's exchanges and its unrouted queue: declared at start-up, or checked.

Both channel exchanges are durable topic exchanges whose alternate exchange is the
unrouted fanout exchange, bound to a durable queue of the same name: a message that no
downstream queue is bound for yet is kept there, never confirmed into the void.

The quarantine queue (callbacks edge security refused) is bound to no exchange: only the
edge publishes to it, by the default exchange, and nothing reaches a consumer from it
but through `relay quarantine redrive`.
"""

from __future__ import annotations

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractExchange
from pamqp.common import FieldTable

from relay.config import QuarantineSettings, TopologySettings
from relay.contract.routing import Flow, exchange_for


class TopologyMissing(RuntimeError):
    """A passive check found an exchange or queue absent (or declared differently)."""


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
    await channel.declare_queue(queue.queue, durable=True, arguments=arguments)


async def declare(
    channel: AbstractChannel,
    names: TopologySettings,
    quarantine: QuarantineSettings | None = None,
) -> None:
    """Create (idempotently) the unrouted exchange and queue, both channel exchanges, and
    with `quarantine` enabled its queue."""
    unrouted = await channel.declare_exchange(names.unrouted, ExchangeType.FANOUT, durable=True)
    queue = await channel.declare_queue(
        names.unrouted, durable=True, arguments={"x-queue-type": names.unrouted_queue_type}
    )
    await queue.bind(unrouted, routing_key="")
    for channel_ in Flow:
        await declare_channel_exchange(channel, names, channel_)
    if quarantine is not None and quarantine.enabled:
        await declare_quarantine(channel, quarantine, names)


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
) -> None:
    """Passively verify everything `declare` would create; raise `TopologyMissing` if not."""
    for name in (names.unrouted, names.delivery_reports, names.inbound):
        await _passive(channel, name, is_queue=False)
    await _passive(channel, names.unrouted, is_queue=True)
    if quarantine is not None and quarantine.enabled:
        await _passive(channel, quarantine.queue, is_queue=True)


async def _passive(channel: AbstractChannel, name: str, *, is_queue: bool) -> None:
    try:
        if is_queue:
            await channel.declare_queue(name, passive=True)
        else:
            await channel.get_exchange(name, ensure=True)
    except Exception as exc:  # aiormq closes the channel with 404 NOT_FOUND
        kind = "queue" if is_queue else "exchange"
        raise TopologyMissing(f"{kind} {name!r} does not exist") from exc
