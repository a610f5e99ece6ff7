"""A worker's own queues: main queue, one retry queue per delay, dead-letter exchange and queue.

    relay exchange --(binding keys)--> QUEUE --(handler asks to retry)--> QUEUE.retry.<ms>
    QUEUE.retry.<ms> --(TTL expires, dead-letters via the default exchange)--> QUEUE
    QUEUE --(reject, retries exhausted, undecodable, delivery limit)--> QUEUE.dlx --> QUEUE.dlq

Retried and dead-lettered messages are republished by the worker with publisher confirms
(so headers carry the attempt and the reason); the main queue's own dead-letter exchange is
a backstop for the quorum delivery limit.
"""

from __future__ import annotations

from typing import Any

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from consumers.config import WorkerSettings
from consumers.policy import dead_letter_names, retry_queue_name
from relay.contract.topology import declare_channel_exchange


def _type_args(settings: WorkerSettings) -> dict[str, Any]:
    args: dict[str, Any] = {"x-queue-type": settings.queue_type}
    if settings.queue_type == "quorum":
        args |= {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
    return args


def main_queue_arguments(settings: WorkerSettings) -> dict[str, Any]:
    dlx, _ = dead_letter_names(settings.queue)
    args = _type_args(settings) | {"x-dead-letter-exchange": dlx}
    if settings.queue_type == "quorum":
        args["x-delivery-limit"] = settings.delivery_limit
    return args


def retry_queue_arguments(settings: WorkerSettings, delay: float) -> dict[str, Any]:
    """Messages wait `delay` seconds, then dead-letter back to the main queue."""
    return _type_args(settings) | {
        "x-message-ttl": round(delay * 1000),
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": settings.queue,
    }


async def declare(channel: AbstractChannel, settings: WorkerSettings) -> AbstractQueue:
    """Declare (idempotently) everything the worker consumes from or publishes to."""
    dlx_name, dlq_name = dead_letter_names(settings.queue)
    dlx = await channel.declare_exchange(dlx_name, ExchangeType.FANOUT, durable=True)
    dlq = await channel.declare_queue(
        dlq_name, durable=True, arguments={"x-queue-type": settings.queue_type}
    )
    await dlq.bind(dlx, routing_key="")
    for delay in set(settings.retry_delays):
        await channel.declare_queue(
            retry_queue_name(settings.queue, delay),
            durable=True,
            arguments=retry_queue_arguments(settings, delay),
        )
    queue = await channel.declare_queue(
        settings.queue, durable=True, arguments=main_queue_arguments(settings)
    )
    await _bind(channel, queue, settings)
    return queue


async def declare_relay_exchange(
    channel: AbstractChannel, settings: WorkerSettings
) -> AbstractExchange:
    """The relay's exchange: declared exactly as the relay does, or only checked to exist."""
    if settings.declare_exchange:
        return await declare_channel_exchange(channel, settings.topology, settings.kind.flow)
    return await channel.get_exchange(settings.exchange, ensure=True)


async def _bind(channel: AbstractChannel, queue: AbstractQueue, settings: WorkerSettings) -> None:
    exchange = await declare_relay_exchange(channel, settings)
    for key in settings.binding_keys:
        await queue.bind(exchange, routing_key=key)


async def delete(channel: AbstractChannel, settings: WorkerSettings) -> None:
    """Remove the worker's queues and dead-letter exchange (tests, decommissioning)."""
    dlx_name, dlq_name = dead_letter_names(settings.queue)
    names = [settings.queue, dlq_name]
    names += [retry_queue_name(settings.queue, d) for d in set(settings.retry_delays)]
    for name in names:
        await channel.queue_delete(name)
    await channel.exchange_delete(dlx_name)
