"""The base worker: consume in batches, apply through the store, then ack; never lose a message.

Ack policy lives here, not in handlers. A handler returns an effect (success) or raises
`Retry` / `Reject`. Per batch the worker:

1. decodes each delivery (undecodable -> DLQ) and asks the handler for its effect;
2. applies all effects in one store transaction together with their dedup keys
   (a failing batch is retried item by item, so one bad item cannot block the rest);
3. republishes retries and dead letters with publisher confirms;
4. acks only then. A crash anywhere before step 4 leaves the messages unacked: the broker
   redelivers them, and the dedup keys make the second application a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Sequence
from typing import Protocol

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from consumers.amqp import failover, reroute, topology
from consumers.amqp.envelope import Envelope, attempt_of, open_envelope
from consumers.batches import Batcher
from consumers.config import WorkerSettings
from consumers.errors import Reject, Retry
from consumers.metrics import Metrics
from consumers.model import Effect, InboundMessage, Keyed
from consumers.policy import DeadLetter, RetryLater, RetryPolicy
from consumers.store import Store
from relay.telemetry.logs import mask_phone

Decision = RetryLater | DeadLetter
Planned = tuple[AbstractIncomingMessage, Envelope, Effect]


class Handler(Protocol):
    name: str

    async def handle(self, envelope: Envelope) -> Effect: ...


@dataclasses.dataclass(slots=True)
class Tally:
    applied: int = 0
    duplicate: int = 0
    retried: int = 0
    dead_lettered: int = 0
    requeued: int = 0


class Worker:
    def __init__(
        self, settings: WorkerSettings, handler: Handler, store: Store, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.tally = Tally()
        self._handler = handler
        self._store = store
        self._metrics = metrics
        self._policy = RetryPolicy(settings.retry_delays, settings.max_attempts)
        self._batcher: Batcher[AbstractIncomingMessage] = Batcher(
            settings.batch_size, settings.batch_wait
        )
        self._log = structlog.get_logger("consumers").bind(queue=settings.queue)
        self._connection: AbstractRobustConnection | None = None
        self._publisher: AbstractChannel | None = None
        self.consuming = False

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    @property
    def healthy(self) -> bool:
        conn = self._connection
        return self.consuming and conn is not None and not conn.is_closed

    async def run(self, stop: asyncio.Event) -> Tally:
        """Consume until `stop` is set, then drain for at most `shutdown_timeout` seconds."""
        started = time.monotonic()
        s = self.settings
        self._connection = await failover.connect_robust(
            s.addresses(), client_properties={"connection_name": s.connection_name}
        )
        try:
            await self._consume_until(stop)
        finally:
            await self._connection.close()
            self._log.info(
                "worker.stopped", seconds=round(time.monotonic() - started, 1),
                **dataclasses.asdict(self.tally),
            )  # fmt: skip
        return self.tally

    async def _consume_until(self, stop: asyncio.Event) -> None:
        assert self._connection is not None
        channel = await self._connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=self.settings.prefetch)
        self._publisher = await self._connection.channel(publisher_confirms=True)
        queue = await topology.declare(channel, self.settings)
        tag = await queue.consume(self._buffer_put)
        self.consuming = True
        pump = asyncio.create_task(self._pump())
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
        for open_channel in (channel, self._publisher):
            with contextlib.suppress(Exception):
                await open_channel.close()

    async def _drain(self, pump: asyncio.Task[None]) -> None:
        """Finish what is buffered within the bound; unacked rest returns to the queue."""
        await asyncio.sleep(0)  # let deliveries already handed to callbacks reach the buffer
        self._batcher.end()
        try:
            await asyncio.wait_for(pump, self.settings.shutdown_timeout)
        except TimeoutError:
            self._log.warning("worker.drain_timeout", left=self._batcher.pending())

    async def _buffer_put(self, message: AbstractIncomingMessage) -> None:
        self._batcher.put(message)

    async def _pump(self) -> None:
        while (batch := await self._batcher.next()) is not None:
            started = time.perf_counter()
            await self.process(batch)
            self._metrics.observe_batch(time.perf_counter() - started)

    async def process(self, batch: Sequence[AbstractIncomingMessage]) -> None:
        """Handle, store, reroute and settle one batch (in delivery order)."""
        planned: list[Planned] = []
        decisions: list[tuple[AbstractIncomingMessage, Decision]] = []
        for message in batch:
            outcome = await self._plan(message)
            if isinstance(outcome, tuple):
                planned.append(outcome)
            else:
                decisions.append((message, outcome))
        done = await self._commit(planned, decisions)
        results = await asyncio.gather(*(self._reroute(m, d) for m, d in decisions))
        done += [m for (m, _), ok in zip(decisions, results, strict=True) if ok]
        await self._ack(done)

    async def _plan(self, message: AbstractIncomingMessage) -> Planned | Decision:
        headers = message.headers or {}
        try:
            envelope = open_envelope(message.body, message.type, headers)
            started = time.perf_counter()
            try:
                return message, envelope, await self._handler.handle(envelope)
            finally:
                self._metrics.observe_handler(time.perf_counter() - started)
        except Reject as exc:
            return DeadLetter(exc.reason)
        except Retry as exc:
            return self._policy.after_failure(attempt_of(headers), exc.reason, exc.delay)
        except Exception as exc:
            self._log.exception("handler.failed", message_id=message.message_id)
            return self._policy.after_failure(attempt_of(headers), type(exc).__name__, None)

    async def _commit(
        self, planned: list[Planned], decisions: list[tuple[AbstractIncomingMessage, Decision]]
    ) -> list[AbstractIncomingMessage]:
        """Apply effects; return the messages now safe to ack, add retries for failures."""
        items = [Keyed(env.dedup_key, effect) for _, env, effect in planned]
        results = await self._apply(items)
        done: list[AbstractIncomingMessage] = []
        for (message, env, effect), result in zip(planned, results, strict=True):
            if isinstance(result, BaseException):
                decision = self._policy.after_failure(env.attempt, type(result).__name__, None)
                decisions.append((message, decision))
                continue
            done.append(message)
            self._count("applied" if result else "duplicate")
            if result:
                self._log_effect(env, effect)
        return done

    async def _apply(self, items: list[Keyed]) -> list[bool | BaseException]:
        if not items:
            return []
        try:
            return list(await self._store.apply(self.settings.queue, items))
        except Exception as exc:
            self._log.warning("store.batch_failed", size=len(items), error=type(exc).__name__)
        return [await self._apply_one(item) for item in items]

    async def _apply_one(self, item: Keyed) -> bool | BaseException:
        try:
            return (await self._store.apply(self.settings.queue, [item]))[0]
        except Exception as exc:
            return exc

    async def _reroute(self, message: AbstractIncomingMessage, decision: Decision) -> bool:
        assert self._publisher is not None
        queue = self.settings.queue
        log = self._log.bind(message_id=message.message_id, type=message.type)
        try:
            if isinstance(decision, RetryLater):
                await reroute.retry(self._publisher, queue, message, decision)
                log.info("message.retry", attempt=decision.next_attempt, delay=decision.delay)
                self._count("retried")
            else:
                await reroute.dead_letter(self._publisher, queue, message, decision)
                log.warning("message.dead_lettered", reason=decision.reason)
                self._count("dead_lettered")
            return True
        except Exception as exc:
            log.warning("message.reroute_failed", error=type(exc).__name__)
            await self._settle(message, requeue=True)
            return False

    async def _ack(self, messages: list[AbstractIncomingMessage]) -> None:
        for message in messages:
            await self._settle(message, requeue=None)

    async def _settle(self, message: AbstractIncomingMessage, *, requeue: bool | None) -> None:
        """Ack (requeue None) or nack; a channel lost meanwhile means redelivery, not loss."""
        try:
            if requeue is None:
                await message.ack()
            else:
                await message.nack(requeue=requeue)
                self._count("requeued")
        except Exception as exc:
            self._log.warning("message.settle_failed", error=type(exc).__name__)

    def _count(self, outcome: str) -> None:
        setattr(self.tally, outcome, getattr(self.tally, outcome) + 1)
        self._metrics.count(outcome)

    def _log_effect(self, envelope: Envelope, effect: Effect) -> None:
        if isinstance(effect, InboundMessage) and effect.opt is not None:
            self._log.info(
                "inbound.opt_change", opted_out=effect.opt.opted_out,
                sender=mask_phone(effect.sender), to=mask_phone(effect.to),
                request_id=envelope.request_id,
            )  # fmt: skip
