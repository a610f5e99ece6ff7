"""The quarantine's own small path to the broker, apart from the callback pipeline.

Its own connection and confirm channel, not the app's `Publisher`: refused requests are
whatever anyone on the internet sends, and none of them may take a confirm slot, a
pipeline tick or back-pressure (429/503) from a genuine callback, nor may a broken
quarantine make the relay unready. One publish is a mandatory, confirmed basic.publish
to the queue by the default exchange; a missing queue is a return, so an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection
from pamqp.common import FieldTable

from relay.config import AmqpSettings, QuarantineSettings, TopologySettings
from relay.contract import topology
from relay.contract.broker import connect_error
from relay.contract.message import APP_ID, PERSISTENT

log = structlog.get_logger("relay.quarantine")


class QuarantineUnavailable(RuntimeError):
    """No open channel to the quarantine queue right now."""


class QuarantineSink:
    """Connects in the background, keeps reconnecting; `publish` fails while it is down."""

    def __init__(
        self, amqp: AmqpSettings, quarantine: QuarantineSettings, names: TopologySettings
    ) -> None:
        self._amqp, self._held, self._names = amqp, quarantine, names
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._channel is not None and not self._channel.is_closed

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="quarantine-supervisor")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    async def publish(self, body: bytes, headers: FieldTable) -> None:
        """One held callback into the queue, confirmed; an exception if not."""
        channel = self._channel
        if channel is None or channel.is_closed:
            raise QuarantineUnavailable("no channel to the quarantine")
        message = aio_pika.Message(
            body,
            headers=headers,
            delivery_mode=PERSISTENT,
            timestamp=datetime.datetime.now(datetime.UTC),
            app_id=APP_ID,
        )
        await channel.default_exchange.publish(message, self._names.quarantine, mandatory=True)

    async def _supervise(self) -> None:
        attempt = 0
        while True:
            address = self._amqp.addresses()[attempt % len(self._amqp.addresses())]
            attempt += 1
            try:
                lost = await self._connect(address.reveal())
            except Exception as exc:  # connect_error: the broker's words, never the URL
                if _cancelled():
                    raise asyncio.CancelledError from exc
                log.warning("quarantine.connect_failed", error=connect_error(exc))
                await asyncio.sleep(self._amqp.max_reconnect_interval)
                continue
            await lost.wait()
            self._channel = None
            await asyncio.sleep(self._amqp.reconnect_interval)

    async def _connect(self, url: str) -> asyncio.Event:
        connection = await aio_pika.connect(
            url,
            timeout=self._amqp.connect_timeout,
            client_properties={"connection_name": f"{self._amqp.connection_name}-quarantine"},
        )
        try:
            channel = await self._queue_channel(connection)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        channel.close_callbacks.add(lambda *_: lost.set())
        self._channel = channel
        return lost

    async def _queue_channel(self, connection: AbstractConnection) -> AbstractChannel:
        """A confirm channel, with the queue declared (or, declared otherwise, left as is)."""
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        if not self._names.declare:
            await channel.declare_queue(self._names.quarantine, passive=True)
            return channel
        try:
            await topology.declare_quarantine(channel, self._held, self._names)
        except aiormq.exceptions.ChannelPreconditionFailed:
            log.error("quarantine.declared_otherwise", queue=self._names.quarantine[:64])
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        return channel


def _cancelled() -> bool:
    """True when this task was cancelled while connecting: aio-pika can report our own
    cancel as a connection error, and retrying then would make `close` wait forever."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
