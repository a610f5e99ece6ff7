"""The base worker against a real RabbitMQ: ack only after the store, retry, DLQ, dedup, drain."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from consumers import server
from consumers.amqp import dlq
from consumers.amqp.envelope import Envelope
from consumers.cli import health, print_dlq
from consumers.config import WorkerKind, WorkerSettings
from consumers.errors import Retry
from consumers.handlers.delivery_reports import DeliveryReportHandler
from consumers.metrics import Metrics
from consumers.model import Effect, Keyed
from consumers.policy import dead_letter_names
from consumers.store.sqlite import SqliteStore
from consumers.worker import Worker
from tests.consumers.conftest import (
    SettingsFactory,
    counts,
    declare,
    publish,
    queue_depth,
    recipient_body,
    running,
    sinch_message,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
TYPE = "recipient_delivery_report_sms"


class FlakyHandler:
    """Asks for a retry the first `failures` times it sees each message."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: collections.Counter[str] = collections.Counter()
        self.attempts: list[int] = []

    async def handle(self, envelope: Envelope) -> Effect:
        self.calls[envelope.dedup_key] += 1
        self.attempts.append(envelope.attempt)
        if self.calls[envelope.dedup_key] <= self.failures:
            raise Retry("downstream busy")
        return await DeliveryReportHandler().handle(envelope)


async def delivered(store: SqliteStore, batch: str = "B0") -> int:
    return sum(r.status == "Delivered" for r in await store.recipient_statuses(batch))


async def dead_letters(settings: WorkerSettings, expected: int) -> list[dlq.DeadLetterInfo]:
    name = dead_letter_names(settings.queue)[1]

    async def arrived() -> bool:
        return await queue_depth(settings, name) >= expected

    await wait_until(arrived)
    return await dlq.inspect(settings, limit=expected + 5, replay=False)


@pytest.mark.parametrize("queue_type", ["quorum", "classic"])
async def test_messages_are_stored_then_acked(
    make_settings: SettingsFactory, sqlite_store: SqliteStore, queue_type: str
) -> None:
    """Every published report ends in the store and the queue ends empty (either queue type)."""
    settings = make_settings(queue_type=queue_type)
    await declare(settings)
    await publish(settings, [sinch_message(recipient_body(n), TYPE) for n in range(50)])
    async with running(settings, sqlite_store) as worker:
        await wait_until(lambda: _equals(delivered(sqlite_store), 50))
    assert worker.metrics.total("applied") == 50
    assert await queue_depth(settings, settings.queue) == 0
    exposition = worker.metrics.render().decode()
    assert f'consumer_handler_seconds_count{{queue="{settings.queue}"}} 50.0' in exposition
    assert (
        f'consumer_messages_total{{outcome="applied",queue="{settings.queue}"}} 50.0' in exposition
    )


async def test_retry_then_success(
    make_settings: SettingsFactory, sqlite_store: SqliteStore
) -> None:
    """A handler asking twice for a retry succeeds on the third attempt via the retry queues."""
    settings = make_settings(max_attempts=5)
    handler = FlakyHandler(failures=2)
    async with running(settings, sqlite_store, handler) as worker:
        await publish(settings, [sinch_message(recipient_body(1), TYPE)])
        await wait_until(lambda: _equals(delivered(sqlite_store), 1))
    assert handler.attempts == [1, 2, 3]
    assert counts(worker, "retried", "applied", "dead_lettered") == (2, 1, 0)


async def test_retries_exhausted_go_to_dlq_with_reason(
    make_settings: SettingsFactory, sqlite_store: SqliteStore
) -> None:
    """After max_attempts the message lands in the DLQ, body intact, reason in a header."""
    settings = make_settings(max_attempts=3)
    handler = FlakyHandler(failures=99)
    body = recipient_body(7)
    async with running(settings, sqlite_store, handler) as worker:
        await publish(settings, [sinch_message(body, TYPE)])
        found = await dead_letters(settings, 1)
    assert handler.attempts == [1, 2, 3]
    assert len(found) == 1
    assert "retries exhausted after 3 attempts: downstream busy" in found[0].reason
    assert worker.metrics.total("dead_lettered") == 1
    assert await delivered(sqlite_store) == 0


@pytest.mark.parametrize(
    "body",
    [b"\x00not json", b"[]", b'{"type":"recipient_delivery_report_sms","status":"Delivered"}'],
)
async def test_poison_goes_to_dlq_once_and_never_loops(
    make_settings: SettingsFactory, sqlite_store: SqliteStore, body: bytes
) -> None:
    """Undecodable or malformed bodies are dead-lettered on the first delivery, not retried."""
    settings = make_settings()
    async with running(settings, sqlite_store) as worker:
        await publish(settings, [sinch_message(body, TYPE), sinch_message(recipient_body(1), TYPE)])
        found = await dead_letters(settings, 1)
        await wait_until(lambda: _equals(delivered(sqlite_store), 1))
    assert len(found) == 1
    assert found[0].attempts == 1
    assert counts(worker, "dead_lettered", "retried", "applied") == (1, 0, 1)
    assert await queue_depth(settings, settings.queue) == 0


async def test_duplicate_delivery_is_applied_once(
    make_settings: SettingsFactory, sqlite_store: SqliteStore
) -> None:
    """The same callback published twice (a Sinch retry) changes the store once."""
    settings = make_settings()
    await declare(settings)
    copies = [sinch_message(recipient_body(3), TYPE, dedup_key="same") for _ in range(2)]
    await publish(settings, copies[:1])
    async with running(settings, sqlite_store) as worker:
        await wait_until(lambda: _equals(delivered(sqlite_store), 1))
        await publish(settings, copies[1:])
        await wait_until(lambda: _equals(_settled(worker), 2))
    assert counts(worker, "applied", "duplicate") == (1, 1)


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
async def test_stop_drains_in_flight_and_acks_what_it_stored(
    make_settings: SettingsFactory, sqlite_store: SqliteStore, queue_type: str
) -> None:
    """Stopping finishes buffered work and acks it: a second run applies only the rest."""
    settings = make_settings(prefetch=500, batch_size=50, queue_type=queue_type)
    await declare(settings)
    await publish(settings, [sinch_message(recipient_body(n), TYPE) for n in range(3000)])
    async with running(settings, sqlite_store) as first:
        await wait_until(lambda: _gt(first, 0))
    assert 0 < first.metrics.total("applied") < 3000
    async with running(settings, sqlite_store) as second:
        await wait_until(lambda: _equals(_stored(sqlite_store), 3000))
    assert second.metrics.total("applied") == 3000 - first.metrics.total("applied")
    if queue_type == "classic":  # a quorum queue may still return a few acked messages
        assert second.metrics.total("duplicate") == 0


async def _stored(store: SqliteStore) -> int:
    return sum([len(await store.recipient_statuses(f"B{batch}")) for batch in range(30)])


async def test_dlq_listing_shows_the_sinch_batch_id(
    make_settings: SettingsFactory, sqlite_store: SqliteStore
) -> None:
    """`dlq` shows the `batch_id` an operator searches for, beside the relay's message id."""
    import io

    settings = make_settings()
    body = b'{"type":"recipient_delivery_report_sms","batch_id":"01JHFFHQ0P","status":"Delivered"}'
    message = sinch_message(body, TYPE)
    async with running(settings, sqlite_store):
        await publish(settings, [message])
        await dead_letters(settings, 1)
    out = io.StringIO()
    assert await print_dlq(settings, 5, False, out) == 0
    header, row = out.getvalue().splitlines()
    assert header.split() == ["type", "id", "batch_id", "attempts", "reason", "message_id"]
    assert row.split()[:4] == [TYPE, "-", "01JHFFHQ0P", "1"]
    assert row.endswith(str(message.message_id))


async def test_dlq_replay_sends_messages_back(
    make_settings: SettingsFactory, sqlite_store: SqliteStore
) -> None:
    """`dlq --replay` moves dead letters back to the worker queue with a fresh attempt count."""
    settings = make_settings(max_attempts=1)
    handler = FlakyHandler(failures=1)
    async with running(settings, sqlite_store, handler):
        await publish(settings, [sinch_message(recipient_body(5), TYPE)])
        await dead_letters(settings, 1)
        assert len(await dlq.inspect(settings, limit=5, replay=True)) == 1
        await wait_until(lambda: _equals(delivered(sqlite_store), 1))


class FailingStore:
    """A store whose first `failures` transactions containing `poison_key` fail."""

    def __init__(self, inner: SqliteStore, poison_key: str, failures: int) -> None:
        self.inner, self.poison_key, self.failures = inner, poison_key, failures

    async def apply(self, consumer: str, items: Sequence[Keyed]) -> list[bool]:
        if self.failures and any(i.key == self.poison_key for i in items):
            self.failures -= 1
            raise RuntimeError("database is locked")
        return await self.inner.apply(consumer, items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_store_failure_retries_only_the_failing_message(
    make_settings: SettingsFactory, sqlite_store: SqliteStore
) -> None:
    """A failing transaction is split; the message that fails alone is retried, then stored."""
    settings = make_settings(batch_size=10)
    await declare(settings)
    messages = [sinch_message(recipient_body(n), TYPE, dedup_key=f"k{n}") for n in range(5)]
    await publish(settings, messages)
    store = FailingStore(sqlite_store, "k2", failures=2)  # the batch, then k2 alone
    async with running(settings, store) as worker:
        await wait_until(lambda: _equals(delivered(sqlite_store), 5))
    assert counts(worker, "applied", "retried", "dead_lettered") == (5, 1, 0)


async def test_http_health_and_metrics(make_settings: SettingsFactory, aiohttp_client: Any) -> None:
    """/healthz follows the worker's state; /metrics counts outcomes per queue."""
    metrics = Metrics("q")
    metrics.count("applied", 3)
    state = {"ok": True}
    client = await aiohttp_client(server.create_app(lambda: state["ok"], metrics))
    assert (await client.get("/healthz")).status == 200
    state["ok"] = False
    assert (await client.get("/healthz")).status == 503
    text = await (await client.get("/metrics")).text()
    assert 'consumer_messages_total{outcome="applied",queue="q"} 3.0' in text


async def test_health_command_exit_codes(make_settings: SettingsFactory, tmp_path: Path) -> None:
    """health: 1 naming the missing queue, then the missing store (never created); then 0."""
    import io

    settings = make_settings(kind=WorkerKind.INBOUND)
    out = io.StringIO()
    assert await health(settings, out) == 1
    assert f"unhealthy: broker: NOT_FOUND - no queue '{settings.queue}'" in out.getvalue()
    await declare(settings)
    assert await health(settings, out) == 1
    assert f"unhealthy: store: no store at {tmp_path / 'store.sqlite3'}" in out.getvalue()
    assert not (tmp_path / "store.sqlite3").exists()
    store = SqliteStore(str(tmp_path / "store.sqlite3"))
    await store.open()
    await store.close()
    assert await health(settings, out) == 0, out.getvalue()


async def _equals(value: object, expected: object) -> bool:
    return (await value if asyncio.iscoroutine(value) else value) == expected


async def _settled(worker: Worker) -> int:
    return sum(counts(worker, "applied", "duplicate"))


async def _gt(worker: Worker, n: int) -> bool:
    return worker.metrics.total("applied") > n
