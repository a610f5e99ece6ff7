"""One batch, transport-free: handle, store, decide, reroute, settle; never lose a message.

A handler returns an effect (success) or raises `Retry` / `Reject`. Per batch:

1. decode each delivery (undecodable -> DLQ) and ask the handler for its effect;
2. apply all effects in one store transaction together with their dedup keys
   (a failing batch is retried item by item, so one bad item cannot block the rest);
3. republish retries and dead letters with publisher confirms (a failed copy: requeue);
4. ack only then. A crash anywhere before step 4 leaves the messages unacked: the broker
   redelivers them, and the dedup keys make the second application a no-op.

The decisions are `consumers.settle`'s; the `Transport` (aio-pika in production, a fake in
the unit tests) only carries them out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import structlog

from consumers import settle
from consumers.amqp.envelope import Envelope, attempt_of, open_envelope
from consumers.errors import Reject, Retry
from consumers.metrics import Metrics
from consumers.model import Effect, InboundMessage, Keyed, OptChange
from consumers.policy import DeadLetter, RetryLater, RetryPolicy
from consumers.settle import Ack, Applied, Decision, Failed, Outcome, Requeue
from consumers.store import Store
from relay.telemetry.logs import mask_phone


class Handler(Protocol):
    async def handle(self, envelope: Envelope) -> Effect: ...


class Delivery(Protocol):
    """What the batch step reads from a message (an aio-pika delivery, or a test's fake)."""

    @property
    def body(self) -> bytes: ...
    @property
    def type(self) -> str | None: ...
    @property
    def headers(self) -> Mapping[str, Any] | None: ...
    @property
    def message_id(self) -> str | None: ...


M = TypeVar("M", bound=Delivery)
M_contra = TypeVar("M_contra", bound=Delivery, contravariant=True)
Planned = tuple[Envelope, Effect]


class Transport(Protocol[M_contra]):
    async def reroute(self, message: M_contra, decision: RetryLater | DeadLetter) -> None:
        """Publish the retry / dead-letter copy and wait for its confirm; raise on failure."""

    async def requeue(self, message: M_contra) -> bool:
        """Nack with requeue; False if the channel is gone (the broker requeues it anyway)."""

    async def ack(self, messages: Sequence[M_contra]) -> None:
        """Ack all of them, with as few frames as the outstanding deliveries allow."""


class Processor(Generic[M]):
    def __init__(
        self,
        queue: str,
        handler: Handler,
        store: Store,
        policy: RetryPolicy,
        metrics: Metrics,
        transport: Transport[M],
    ) -> None:
        self._queue = queue
        self._handler = handler
        self._store = store
        self._policy = policy
        self._metrics = metrics
        self._transport = transport
        self._log = structlog.get_logger("consumers").bind(queue=queue)

    async def process(self, batch: Sequence[M]) -> None:
        """Handle, store, reroute and settle one batch (in delivery order)."""
        planned = [await self._plan(message) for message in batch]
        outcomes = await self._commit(planned)
        decisions = [
            settle.decide(o, attempt_of(m.headers or {}), self._policy)
            for m, o in zip(batch, outcomes, strict=True)
        ]
        confirmed = await asyncio.gather(
            *(self._reroute(m, d) for m, d in zip(batch, decisions, strict=True))
        )
        final = [settle.after_reroute(d, ok) for d, ok in zip(decisions, confirmed, strict=True)]
        for message in [m for m, s in zip(batch, final, strict=True) if isinstance(s, Requeue)]:
            if await self._transport.requeue(message):
                self._metrics.count("requeued")
        await self._transport.ack(
            [m for m, s in zip(batch, final, strict=True) if isinstance(s, Ack)]
        )

    async def _plan(self, message: M) -> Planned | Outcome:
        try:
            envelope = open_envelope(message.body, message.type, message.headers or {})
            started = time.perf_counter()
            try:
                return envelope, await self._handler.handle(envelope)
            finally:
                self._metrics.observe_handler(time.perf_counter() - started)
        except Exception as exc:
            if not isinstance(exc, Reject | Retry):
                self._log.exception("handler.failed", message_id=message.message_id)
            return settle.outcome_of(exc)

    async def _commit(self, planned: Sequence[Planned | Outcome]) -> list[Outcome]:
        """Apply the effects in one transaction (else one by one); each delivery's outcome."""
        effects = [p for p in planned if isinstance(p, tuple)]
        results = iter(await self._apply([Keyed(env.dedup_key, eff) for env, eff in effects]))
        outcomes: list[Outcome] = []
        applied: list[Planned] = []
        for item in planned:
            if not isinstance(item, tuple):
                outcomes.append(item)
                continue
            result = next(results)
            if isinstance(result, BaseException):
                outcomes.append(Failed(type(result).__name__))
                continue
            outcomes.append(Applied(new=result))
            self._metrics.count("applied" if result else "duplicate")
            if result:
                applied.append(item)
        await self._log_opt_changes(applied)
        return outcomes

    async def _apply(self, items: list[Keyed]) -> list[bool | BaseException]:
        if not items:
            return []
        try:
            return list(await self._store.apply(self._queue, items))
        except Exception as exc:
            self._log.warning("store.batch_failed", size=len(items), error=type(exc).__name__)
        return [await self._apply_one(item) for item in items]

    async def _apply_one(self, item: Keyed) -> bool | BaseException:
        try:
            return (await self._store.apply(self._queue, [item]))[0]
        except Exception as exc:
            return exc

    async def _reroute(self, message: M, decision: Decision) -> bool:
        """Nothing to do for an ack; else publish the copy, True once it is confirmed."""
        if isinstance(decision, Ack):
            return True
        log = self._log.bind(message_id=message.message_id, type=message.type)
        try:
            await self._transport.reroute(message, decision)
        except Exception as exc:
            log.warning("message.reroute_failed", error=type(exc).__name__)
            return False
        if isinstance(decision, RetryLater):
            log.info("message.retry", attempt=decision.next_attempt, delay=decision.delay)
            self._metrics.count("retried")
        else:
            log.warning("message.dead_lettered", reason=decision.reason)
            self._metrics.count("dead_lettered")
        return True

    async def _log_opt_changes(self, applied: Sequence[Planned]) -> None:
        for envelope, effect in applied:
            if isinstance(effect, InboundMessage) and effect.opt is not None:
                await self._log_opt_change(envelope, effect, effect.opt)

    async def _log_opt_change(
        self, envelope: Envelope, message: InboundMessage, proposed: OptChange
    ) -> None:
        """Log the change the opt-out list holds, not the one proposed: a late STOP can lose.

        The store keeps the newest `received_at` per pair, so a STOP older than a START
        already stored changes nothing: that is `inbound.opt_change_superseded`.
        """
        log = self._log.bind(
            sender=mask_phone(message.sender), to=mask_phone(message.to),
            keyword=proposed.keyword, request_id=envelope.request_id,
        )  # fmt: skip
        try:
            held = await self._store.opt_state(message.sender, message.to)
        except Exception as exc:
            log.warning("inbound.opt_change_unconfirmed", error=type(exc).__name__)
            return
        if held is not None and held.message_id == message.id:
            log.info("inbound.opt_change", opted_out=held.opted_out)
        else:
            opted_out = held.opted_out if held is not None else None
            log.info("inbound.opt_change_superseded", opted_out=opted_out)
