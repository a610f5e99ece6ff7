"""Confirmed, persistent publishes over one long-lived, self-healing AMQP connection.

Requests share a confirm-mode channel and publish concurrently, so confirms pipeline
instead of serialising. Every way a publish can fail maps to a `RelayError`: the HTTP
edge answers 2xx only when `publish` returned, i.e. the broker acked the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection
from pamqp.commands import Basic

from relay.amqp import _aiormq
from relay.amqp.pipeline import Pipeline, choose, open_archiving, open_pipeline
from relay.callback.envelope import Outgoing
from relay.config import AmqpSettings, ArchiveSettings, TopologySettings
from relay.contract import topology
from relay.contract.broker import connect_error
from relay.errors import (
    BrokerBlocked,
    ConfirmTimeout,
    Nacked,
    Overloaded,
    RelayError,
    ShuttingDown,
    Unavailable,
)

log = structlog.get_logger("relay.publisher")

# An exchange whose publishes were all nacked this long reconnects: see _note_nack.
_RECYCLE_NACKING_AFTER = 5.0


class AmqpPublisher:
    """The production `Publisher`: aio-pika for the connection, a `Pipeline` per channel.

    A supervisor task owns the connection: it connects (cycling through every broker
    address, with backoff), declares or checks the topology, waits until the connection
    or the channel closes, and starts over. aio-pika's robust connection is not used
    because it reconnects only to the address it started with, which defeats failover
    to another cluster node.
    """

    def __init__(
        self, amqp: AmqpSettings, names: TopologySettings, archive: ArchiveSettings | None = None
    ) -> None:
        self._amqp = amqp
        self._names = names
        self._archive = archive if archive is not None and archive.enabled else None
        self._connection: AbstractConnection | None = None
        self._unblocked: asyncio.Event | None = None  # cleared while the broker blocks us
        self._pipeline = choose(amqp.pipeline)
        # One pipeline per confirm channel, used round-robin by concurrent publishes.
        self._channels: tuple[Pipeline, ...] = ()
        self._turn = 0
        self._attempt = 0
        self._connector: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._nacking: dict[str, float] = {}  # exchange -> first nack since its last ack
        self._recycling: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def readiness(self) -> dict[str, bool]:
        """Each condition /readyz reports; ready only when all hold."""
        channels = self._channels
        return {
            "connected": self._connection is not None and not self._connection.is_closed,
            "channel_open": bool(channels) and not any(c.is_closed for c in channels),
            "not_blocked": not self._blocked(),
            "accepting": not self._closing,
        }

    async def start(self) -> None:
        """Connect in the background: the relay serves (503) until the broker answers."""
        self._connector = asyncio.create_task(self._supervise(), name="amqp-supervisor")

    async def close(self, drain_seconds: float) -> None:
        """Stop accepting, let in-flight publishes get their confirms, then disconnect."""
        self._closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), drain_seconds)
        if self._in_flight:
            log.warning("publisher.close_with_in_flight", in_flight=self._in_flight)
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._connection is not None:
            await self._connection.close()
        log.info("publisher.closed")

    async def publish(self, message: Outgoing) -> None:
        """Publish and wait for the broker's confirm; raise a `RelayError` otherwise."""
        channel = self._open_channel()
        if self._in_flight >= self._amqp.max_in_flight:
            raise Overloaded(f"{self._in_flight} publishes in flight")
        if not self._in_flight:
            self._idle.clear()
        self._in_flight += 1
        try:
            # mandatory: a message even the alternate exchange cannot route comes back
            # (PublishError) instead of being confirmed into the void. Awaited here, not
            # in a helper coroutine: each coroutine layer costs about 1.2k instructions
            # per publish (docs/performance.md).
            confirm = await channel.publish(message)
        except RelayError:
            raise
        except Exception as exc:
            raise self._relay_error(exc, message) from exc
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
        if not isinstance(confirm, Basic.Ack):
            raise Nacked(f"broker answered {type(confirm).__name__}")
        self._nacking.pop(message.exchange, None)

    def _open_channel(self) -> Pipeline:
        if self._closing:
            raise ShuttingDown("relay is shutting down")
        channels = self._channels
        if not channels:
            raise Unavailable("no open channel to the broker")
        self._turn = (self._turn + 1) % len(channels)
        channel = channels[self._turn]
        if channel.is_closed:
            raise Unavailable("confirm channel closed")
        if self._blocked():
            raise BrokerBlocked("broker blocked publishers (resource alarm)")
        return channel

    def _blocked(self) -> bool:
        return self._unblocked is not None and not self._unblocked.is_set()

    def _relay_error(self, exc: Exception, message: Outgoing) -> RelayError:
        """The one place where either pipeline's failures become `RelayError`s."""
        if isinstance(exc, TimeoutError):
            # Bounded by amqp.confirm_timeout: the batcher fails it with ConfirmTimeout,
            # aiormq's basic_publish raises TimeoutError.
            return ConfirmTimeout(f"no confirm within {self._amqp.confirm_timeout}s")
        if isinstance(exc, aiormq.exceptions.PublishError):
            return Unavailable("message returned unroutable: no queue holds it")
        if isinstance(exc, aiormq.exceptions.DeliveryError):  # aiormq's for Basic.Nack
            self._note_nack(message.exchange)
            return Nacked("broker nacked the publish")
        # The channel or connection closed under the publish.
        return Unavailable(f"publish failed: {exc.__class__.__name__}")

    def _note_nack(self, exchange: str) -> None:
        """Reconnect when every publish to `exchange` was nacked for a while.

        RabbitMQ 3.10: a channel whose first publish to a quorum queue races that queue's
        leader election keeps getting nacks from it after the new leader is elected; a
        fresh connection does not (tests/faults, scenario 7). A full reject-publish
        queue also lands here: reconnecting then costs a moment, not a message.
        """
        since = self._nacking.setdefault(exchange, time.monotonic())
        connection = self._connection
        if time.monotonic() - since < _RECYCLE_NACKING_AFTER or connection is None:
            return
        if self._recycling is None or self._recycling.done():
            self._nacking.clear()
            log.warning("amqp.reconnect_after_nacks", exchange=exchange[:64])
            self._recycling = asyncio.create_task(connection.close())

    async def _supervise(self) -> None:
        """Connect, wait for the connection or channel to drop, reconnect; forever."""
        delay = self._amqp.reconnect_interval
        while not self._closing:
            try:
                lost = await self._connect(self._next_address())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("amqp.connect_failed", error=_describe(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._amqp.max_reconnect_interval)
                continue
            delay = self._amqp.reconnect_interval
            await lost.wait()
            await self._drop_connection()

    def _next_address(self) -> tuple[int, str]:
        addresses = self._amqp.addresses()
        self._attempt += 1
        index = (self._attempt - 1) % len(addresses)
        return index, addresses[index].reveal()

    async def _connect(self, address: tuple[int, str]) -> asyncio.Event:
        connection = await aio_pika.connect(
            address[1],
            client_properties={"connection_name": self._amqp.connection_name},
            timeout=self._amqp.connect_timeout,
            heartbeat=self._amqp.heartbeat,
        )
        try:
            channels = [
                await self._open_confirm_channel(connection) for _ in range(self._amqp.channels)
            ]
            await self._prepare_topology(channels[0])
            await self._prepare_archive(connection)
            copies = [await self._open_confirm_channel(connection) for _ in self._copy_channels()]
            raw = tuple(
                [
                    await self._open_pipeline(c, copies[i] if copies else None)
                    for i, c in enumerate(channels)
                ]
            )
            channels += copies
        except BaseException:
            await connection.close()
            raise
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        for channel in channels:
            channel.close_callbacks.add(lambda *_: lost.set())
        self._connection, self._channels = connection, raw
        self._unblocked = _aiormq.unblocked_event(connection)
        log.info(
            "amqp.connected",
            connection_name=self._amqp.connection_name,
            node=address[0],
            pipeline=self._pipeline,
        )
        return lost

    def _copy_channels(self) -> range:
        """With the archive on, one more confirm channel per pipeline, for the copies."""
        return range(self._amqp.channels if self._archive is not None else 0)

    async def _open_pipeline(
        self, channel: AbstractChannel, copies: AbstractChannel | None
    ) -> Pipeline:
        timeout = self._amqp.confirm_timeout
        underlay = await channel.get_underlay_channel()
        if copies is None:
            return open_pipeline(self._pipeline, underlay, timeout)
        archive = await copies.get_underlay_channel()
        return open_archiving(self._pipeline, underlay, archive, timeout, self._names.archive)

    @staticmethod
    async def _open_confirm_channel(connection: AbstractConnection) -> AbstractChannel:
        return await connection.channel(publisher_confirms=True, on_return_raises=True)

    async def _drop_connection(self) -> None:
        connection, self._connection, self._channels = self._connection, None, ()
        self._unblocked = None
        if not self._closing:
            log.warning("amqp.connection_lost", retry_in=self._amqp.reconnect_interval)
            await asyncio.sleep(self._amqp.reconnect_interval)
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _prepare_topology(self, channel: aio_pika.abc.AbstractChannel) -> None:
        if self._names.declare:
            await topology.declare(channel, self._names)
        else:
            await topology.check(channel, self._names, archive=self._archive)

    async def _prepare_archive(self, connection: AbstractConnection) -> None:
        """Declare the archive stream; one that exists with other retention is kept as is."""
        if self._archive is None or not self._names.declare:
            return
        if not await topology.declare_archive(connection, self._names, self._archive):
            log.warning("archive.retention_differs", stream=self._names.archive[:64])


def _describe(exc: BaseException) -> str:
    if isinstance(exc, topology.TopologyMissing):
        return str(exc)
    return connect_error(exc)
