"""The worker: consume in batches from RabbitMQ, hand each batch to the `Processor`, drain.

This module is the aio-pika lifecycle only (connect, declare, consume, drain, close). What
happens to each message - stored, retried, dead-lettered, requeued, acked - is decided in
`consumers.settle`, run by `consumers.processor` and carried out by `consumers.amqp.transport`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from consumers.amqp import failover, topology
from consumers.amqp.transport import AmqpTransport
from consumers.batches import Batcher
from consumers.config import WorkerSettings
from consumers.metrics import Metrics
from consumers.policy import RetryPolicy
from consumers.processor import Handler, Processor
from consumers.store import Store
from relay.contract.broker import connect_error

# Bounds one attempt to a broker that takes the TCP connection but never answers.
CONNECT_TIMEOUT = 10.0


class Worker:
    def __init__(
        self, settings: WorkerSettings, handler: Handler, store: Store, metrics: Metrics
    ) -> None:
        self.settings = settings
        self._handler = handler
        self._store = store
        self._metrics = metrics
        self._batcher: Batcher[AbstractIncomingMessage] = Batcher(
            settings.batch_size, settings.batch_wait
        )
        self._log = structlog.get_logger("consumers").bind(queue=settings.queue)
        self._connection: AbstractRobustConnection | None = None
        self.consuming = False

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    @property
    def healthy(self) -> bool:
        conn = self._connection
        return self.consuming and conn is not None and not conn.is_closed

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then drain for at most `shutdown_timeout` seconds.

        Until the broker first answers, retry with a doubling delay, one warning per attempt
        (not healthy meanwhile); after that the robust connection reconnects by itself.
        """
        started = time.monotonic()
        self._connection = await self._connect(stop)
        try:
            if self._connection is not None:
                await self._consume_until(stop)
        finally:
            if self._connection is not None:
                await self._connection.close()
            self._log.info(
                "worker.stopped", seconds=round(time.monotonic() - started, 1),
                **self._metrics.totals(),
            )  # fmt: skip

    async def _connect(self, stop: asyncio.Event) -> AbstractRobustConnection | None:
        """The first connection, or None when `stop` came before any broker answered."""
        s = self.settings
        delay = s.reconnect_interval
        while not stop.is_set():
            try:
                return await failover.connect_robust(
                    s.addresses(), CONNECT_TIMEOUT, reconnect_interval=s.reconnect_interval,
                    client_properties={"connection_name": s.connection_name},
                )  # fmt: skip
            except CONNECTION_EXCEPTIONS as exc:
                self._log.warning("amqp.connect_failed", error=connect_error(exc), retry_in=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, s.max_reconnect_interval)
        return None

    async def _consume_until(self, stop: asyncio.Event) -> None:
        assert self._connection is not None
        channel = await self._connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=self.settings.prefetch)
        publisher = await self._connection.channel(publisher_confirms=True)
        transport = AmqpTransport(self.settings.queue, publisher)
        queue = await topology.declare(channel, self.settings)

        async def buffer_put(message: AbstractIncomingMessage) -> None:
            transport.received(message)
            self._batcher.put(message)

        tag = await queue.consume(buffer_put)
        self.consuming = True
        pump = asyncio.create_task(self._pump(self._processor(transport)))
        self._log.info("worker.started", prefetch=self.settings.prefetch)
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({pump, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        self.consuming = False
        with contextlib.suppress(Exception):
            await queue.cancel(tag)
        await self._drain(pump)
        # Quorum queues apply acks asynchronously: closing the channel right after them
        # can return a few acked messages (harmless, dedup, but avoidable).
        await asyncio.sleep(self.settings.settle_grace)
        for open_channel in (channel, publisher):
            with contextlib.suppress(Exception):
                await open_channel.close()

    def _processor(self, transport: AmqpTransport) -> Processor[AbstractIncomingMessage]:
        s = self.settings
        policy = RetryPolicy(s.retry_delays, s.max_attempts)
        return Processor(s.queue, self._handler, self._store, policy, self._metrics, transport)

    async def _drain(self, pump: asyncio.Task[None]) -> None:
        """Finish what is buffered within the bound; unacked rest returns to the queue."""
        await asyncio.sleep(0)  # let deliveries already handed to callbacks reach the buffer
        self._batcher.end()
        try:
            await asyncio.wait_for(pump, self.settings.shutdown_timeout)
        except TimeoutError:
            self._log.warning("worker.drain_timeout", left=self._batcher.pending())

    async def _pump(self, processor: Processor[AbstractIncomingMessage]) -> None:
        while (batch := await self._batcher.next()) is not None:
            started = time.perf_counter()
            await processor.process(batch)
            self._metrics.observe_batch(time.perf_counter() - started)
