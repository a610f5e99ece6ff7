"""Publishes through aiormq's public API only: concurrent `basic_publish` calls.

The fallback for an aiormq whose internals relay/amqp/_aiormq.py was not verified
against, and the reference the batched pipeline is held to (both pass the same
contract and fault suites). Each publish is one `basic_publish(mandatory=True)` on the
confirm channel with `wait=False`: the channel lock is held only while the frames are
queued, not while the socket drains, so concurrent publishes pipeline their confirms.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiormq

from relay.callback.envelope import Outgoing


class PublicPipeline:
    """One confirm channel's publishes, each its own `basic_publish`."""

    def __init__(self, channel: aiormq.Channel, confirm_timeout: float) -> None:
        self._channel = channel
        self._timeout = confirm_timeout

    @property
    def is_closed(self) -> bool:
        return bool(self._channel.is_closed)

    async def publish(self, message: Outgoing) -> aiormq.abc.ConfirmationFrameType | None:
        """The broker's answer (Basic.Ack); raises on nack, return, close or timeout.

        The errors are aiormq's own (and TimeoutError): the publisher maps them, for
        both pipelines, in one place.
        """
        return await self._channel.basic_publish(
            message.body,
            exchange=message.exchange,
            routing_key=message.routing_key,
            properties=message.properties,
            mandatory=True,
            timeout=self._timeout,
            wait=False,
        )

    def submit(self, message: Outgoing) -> asyncio.Future[Any]:
        """`publish` started without waiting (for the archive copy, relay/amqp/archive.py)."""
        return asyncio.ensure_future(self.publish(message))

    def forget(self, message: Outgoing) -> None:
        """Nothing to forget: aiormq drops a settled publish's message id itself."""

    def abandon(self, message: Outgoing, waiter: asyncio.Future[Any]) -> None:
        """Nobody waits for `waiter` any more: cancel it (aiormq rolls back an unsent one)."""
        if waiter.done():
            if not waiter.cancelled():
                waiter.exception()
        else:
            waiter.cancel()
