"""One batch through the processor with fake messages and transport (no broker)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from structlog.testing import capture_logs

from consumers.amqp.envelope import Envelope
from consumers.errors import Reject, Retry
from consumers.handlers.inbound import InboundHandler
from consumers.metrics import Metrics
from consumers.model import Effect, Keyed
from consumers.policy import DeadLetter, RetryLater, RetryPolicy
from consumers.processor import Processor
from consumers.store.sqlite import SqliteStore
from tests.consumers.fakes import FakeMessage, body_of

POLICY = RetryPolicy(delays=(1.0, 5.0), max_attempts=3)


class KeyHandler:
    """Stores every message under its body's `key`; `reject` / `retry` / `crash` ask for those."""

    async def handle(self, envelope: Envelope) -> Effect:
        if "reject" in envelope.payload:
            raise Reject("never valid")
        if "retry" in envelope.payload:
            raise Retry("busy", delay=float(envelope.payload["retry"]))
        if "crash" in envelope.payload:
            raise KeyError("crash")
        return envelope.payload["key"]  # type: ignore[no-any-return]


class FakeStore:
    """Applies keys once; keys in `broken` fail every transaction they are part of."""

    def __init__(self, broken: frozenset[str] = frozenset()) -> None:
        self.seen: set[str] = set()
        self.broken = broken
        self.transactions = 0

    async def apply(self, consumer: str, items: Sequence[Keyed]) -> list[bool]:
        self.transactions += 1
        if any(str(item.effect) in self.broken for item in items):
            raise RuntimeError("database is locked")
        return [self._apply_one(str(item.effect)) for item in items]

    def _apply_one(self, key: str) -> bool:
        fresh = key not in self.seen
        self.seen.add(key)
        return fresh


class FakeTransport:
    """Records what the processor asked for; reroutes of `failing` tags raise."""

    def __init__(self, failing: frozenset[int] = frozenset()) -> None:
        self.failing = failing
        self.rerouted: list[tuple[int, RetryLater | DeadLetter]] = []
        self.requeued: list[int] = []
        self.acked: list[int] = []

    async def reroute(self, message: FakeMessage, decision: RetryLater | DeadLetter) -> None:
        if message.delivery_tag in self.failing:
            raise ConnectionError("confirm lost")
        self.rerouted.append((message.delivery_tag, decision))

    async def requeue(self, message: FakeMessage) -> bool:
        self.requeued.append(message.delivery_tag)
        return True

    async def ack(self, messages: Sequence[FakeMessage]) -> None:
        self.acked += [m.delivery_tag for m in messages]


def processor(store: FakeStore, transport: FakeTransport) -> tuple[Processor[Any], Metrics]:
    metrics = Metrics("q")
    handler = KeyHandler()
    return Processor("q", handler, store, POLICY, metrics, transport), metrics  # type: ignore[arg-type]


async def test_a_mixed_batch_is_stored_rerouted_then_acked_in_one_call() -> None:
    """Stored, duplicate, rejected, retried, crashed and undecodable: all acked once rerouted."""
    store, transport = FakeStore(), FakeTransport()
    step, metrics = processor(store, transport)
    batch = [
        FakeMessage(1, body_of(1)),
        FakeMessage(2, body_of(1)),
        FakeMessage(3, body_of(3, reject=True)),
        FakeMessage(4, body_of(4, retry=0.5)),
        FakeMessage(5, body_of(5, crash=True), headers={"x-attempt": 3}),
        FakeMessage(6, b"\x00not json"),
    ]
    await step.process(batch)
    assert transport.rerouted == [
        (3, DeadLetter("never valid")),
        (4, RetryLater(1.0, 2)),
        (5, DeadLetter("retries exhausted after 3 attempts: KeyError")),
        (6, DeadLetter("undecodable body: not JSON")),
    ]
    assert transport.acked == [1, 2, 3, 4, 5, 6]
    assert transport.requeued == []
    assert metrics.totals() == {
        "applied": 1, "duplicate": 1, "retried": 1, "dead_lettered": 3, "requeued": 0,
    }  # fmt: skip


async def test_a_failed_reroute_requeues_and_is_not_acked() -> None:
    """If the retry copy is not confirmed, the original is requeued, never acked."""
    transport = FakeTransport(failing=frozenset({2}))
    step, metrics = processor(FakeStore(), transport)
    await step.process([FakeMessage(1, body_of(1)), FakeMessage(2, body_of(2, retry=1))])
    assert (transport.requeued, transport.acked) == ([2], [1])
    assert metrics.totals()["requeued"] == 1
    assert metrics.totals()["retried"] == 0


async def test_a_store_failure_splits_the_batch_and_retries_only_the_failing_message() -> None:
    """The batch transaction fails; item by item, only the broken key goes to a retry queue."""
    store, transport = FakeStore(broken=frozenset({"k2"})), FakeTransport()
    step, _ = processor(store, transport)
    await step.process([FakeMessage(t, body_of(t)) for t in (1, 2, 3)])
    assert store.seen == {"k1", "k3"}
    assert store.transactions == 4
    assert transport.rerouted == [(2, RetryLater(1.0, 2))]
    assert transport.acked == [1, 2, 3]


def mo_text(message_id: str, text: str, received_at: str) -> bytes:
    return orjson.dumps({"type": "mo_text", "id": message_id, "from": "46701234567",
                         "to": "12345", "body": text, "received_at": received_at})  # fmt: skip


async def test_a_late_stop_that_loses_to_a_newer_start_is_not_logged_as_opted_out(
    sqlite_store: SqliteStore,
) -> None:
    """The opt-change line says what the opt-out list kept, not what the handler proposed."""
    metrics = Metrics("q")
    step = Processor("q", InboundHandler(), sqlite_store, POLICY, metrics, FakeTransport())
    with capture_logs() as logs:
        await step.process([FakeMessage(1, mo_text("m2", "START", "2025-01-13T09:05:00Z"))])
        await step.process([FakeMessage(2, mo_text("m1", "STOP", "2025-01-13T09:00:00Z"))])
    changes = [e for e in logs if e["event"].startswith("inbound.opt_change")]
    assert [(e["event"], e["keyword"], e["opted_out"]) for e in changes] == [
        ("inbound.opt_change", "START", False),
        ("inbound.opt_change_superseded", "STOP", False),
    ]
    assert metrics.total("applied") == 2
    assert not await sqlite_store.is_opted_out("46701234567", "12345")
