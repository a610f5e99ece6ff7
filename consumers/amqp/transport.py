"""Carrying out the settle decisions over aio-pika: reroute with confirms, requeue, ack.

Acks are batched: per consumer channel, one `basic.ack multiple=True` up to the highest tag
below which every delivery still outstanding on that channel is being acked now (see
`consumers.settle.ack_plan`). A channel lost meanwhile means redelivery, not loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aiormq.abc import AbstractChannel as WireChannel

from consumers.amqp import reroute
from consumers.policy import DeadLetter, RetryLater
from consumers.settle import Outstanding, ack_plan


class AmqpTransport:
    def __init__(self, queue: str, publisher: AbstractChannel) -> None:
        self._queue = queue
        self._publisher = publisher
        self._outstanding: Outstanding[WireChannel] = Outstanding()
        self._log = structlog.get_logger("consumers").bind(queue=queue)

    def received(self, message: AbstractIncomingMessage) -> None:
        """Remember a delivery until it is settled: it forbids multiple acks across it."""
        channel = _channel_of(message)
        if channel is not None and message.delivery_tag is not None:
            self._outstanding.received(channel, message.delivery_tag)

    async def reroute(
        self, message: AbstractIncomingMessage, decision: RetryLater | DeadLetter
    ) -> None:
        if isinstance(decision, RetryLater):
            await reroute.retry(self._publisher, self._queue, message, decision)
        else:
            await reroute.dead_letter(self._publisher, self._queue, message, decision)

    async def requeue(self, message: AbstractIncomingMessage) -> bool:
        channel = _channel_of(message)
        try:
            await message.nack(requeue=True)
        except Exception as exc:
            self._log.warning("message.settle_failed", error=type(exc).__name__)
            return False
        if channel is not None:
            self._outstanding.settled(channel, [_tag(message)])
        return True

    async def ack(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        self._outstanding.forget(lambda channel: channel.is_closed)
        by_channel: dict[WireChannel, list[AbstractIncomingMessage]] = {}
        for message in messages:
            channel = _channel_of(message)
            if channel is None:
                self._log.warning("message.settle_failed", error="ChannelInvalidStateError")
                continue
            by_channel.setdefault(channel, []).append(message)
        for channel, acked in by_channel.items():
            await self._ack_on(channel, acked)

    async def _ack_on(self, channel: WireChannel, acked: list[AbstractIncomingMessage]) -> None:
        plan = ack_plan(acked, self._outstanding.of(channel), _tag)
        try:
            if plan.through is not None:
                await plan.through.ack(multiple=True)
            for message in plan.each:
                await message.ack()
        except Exception as exc:
            self._log.warning("message.settle_failed", error=type(exc).__name__)
        finally:
            self._outstanding.settled(channel, [_tag(m) for m in acked])


def _channel_of(message: AbstractIncomingMessage) -> WireChannel | None:
    """The channel the delivery came on, or None once it closed (its tags are void)."""
    try:
        return message.channel
    except Exception:
        return None


def _tag(message: AbstractIncomingMessage) -> int:
    """Consuming with acks always sets a tag; 0 is never a real one (and sorts first)."""
    return message.delivery_tag or 0
