"""Fixtures for the consumer tests: unique queues and exchanges, a publisher, a running worker."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from consumers.amqp import topology
from consumers.cli import handler_for
from consumers.config import WorkerKind, WorkerSettings, defaults_for
from consumers.metrics import Metrics
from consumers.processor import Handler
from consumers.store import Store
from consumers.store.postgres import PostgresStore
from consumers.store.sqlite import SqliteStore
from consumers.worker import Worker
from relay.config import Secret, TopologySettings
from tests.integration.conftest import ready_relay, relay_settings
from tests.names import unique_topology

SettingsFactory = Callable[..., WorkerSettings]
Client = TestClient[Any, Any]


def recipient_body(n: int, status: str = "Delivered", at: str = "2025-01-13T09:22:40Z") -> bytes:
    """A per-recipient report for recipient number `n` of batch `B<n // 100>`."""
    return (
        f'{{"type":"recipient_delivery_report_sms","batch_id":"B{n // 100}",'
        f'"recipient":"4670{n:07d}","code":0,"status":"{status}","at":"{at}"}}'
    ).encode()


def sinch_message(body: bytes, event_type: str, dedup_key: str | None = None) -> aio_pika.Message:
    """A message shaped exactly as the relay publishes it."""
    return aio_pika.Message(
        body=body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        type=event_type,
        message_id=uuid.uuid4().hex,
        timestamp=time.time(),
        headers={
            "x-dedup-key": dedup_key or hashlib.sha256(body).hexdigest(),
            "x-request-id": uuid.uuid4().hex,
        },
    )


@pytest.fixture
def make_settings(amqp_url: str, tmp_path: Path) -> Iterator[SettingsFactory]:
    """Settings with a unique queue and exchange per test; everything is deleted afterwards."""
    made: list[WorkerSettings] = []

    def make(kind: WorkerKind = WorkerKind.DELIVERY_REPORTS, **changes: Any) -> WorkerSettings:
        suffix = uuid.uuid4().hex[:10]
        base = dataclasses.replace(
            defaults_for(kind),
            amqp_url=Secret(amqp_url),
            queue=f"test.consumers.{kind.value}.{suffix}",
            exchange=f"test.sinch.{kind.value}.{suffix}",
            store_url=Secret(f"sqlite:///{tmp_path / 'store.sqlite3'}"),
            retry_delays=(0.2, 0.4),
            max_attempts=3,
            batch_wait=0.005,
            shutdown_timeout=5.0,
        )
        made.append(dataclasses.replace(base, **changes))
        return made[-1]

    yield make
    asyncio.run(_delete_all(amqp_url, made))


async def _delete_all(amqp_url: str, made: Iterable[WorkerSettings]) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for settings in made:
            channel = await connection.channel()
            await topology.delete(channel, settings)
            await channel.exchange_delete(settings.exchange)


async def publish(settings: WorkerSettings, messages: Iterable[aio_pika.Message]) -> None:
    """Publish to the worker's relay exchange with confirms, pipelined."""
    connection = await aio_pika.connect(settings.amqp_url.reveal())
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await topology.declare_relay_exchange(channel, settings)
        pending = [exchange.publish(m, routing_key=m.type or "", mandatory=True) for m in messages]
        for start in range(0, len(pending), 500):
            await asyncio.gather(*pending[start : start + 500])


async def declare(settings: WorkerSettings) -> None:
    """Declare the worker's queues up front, so messages published before it starts are kept."""
    connection = await aio_pika.connect(settings.amqp_url.reveal())
    async with connection:
        await topology.declare(await connection.channel(), settings)


async def queue_depth(settings: WorkerSettings, name: str) -> int:
    connection = await aio_pika.connect(settings.amqp_url.reveal())
    async with connection:
        queue = await (await connection.channel()).declare_queue(name, passive=True)
        return queue.declaration_result.message_count or 0


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running(
    settings: WorkerSettings, store: Store, handler: Handler | None = None
) -> AsyncIterator[Worker]:
    """A worker consuming in the background until the block ends (then drained)."""
    worker = Worker(settings, handler or handler_for(settings.kind), store, Metrics(settings.queue))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await wait_until(lambda: _started(worker, task), timeout=10)
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def counts(worker: Worker, *outcomes: str) -> tuple[int, ...]:
    """The worker's settled-message counts for `outcomes`, in that order."""
    return tuple(worker.metrics.total(outcome) for outcome in outcomes)


async def _started(worker: Worker, task: asyncio.Task[Any]) -> bool:
    if task.done():
        task.result()
    return worker.consuming


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(str(tmp_path / "store.sqlite3"))
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def postgres_store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    """A store in a fresh schema of its own, dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f"CREATE SCHEMA {schema}")
    store = PostgresStore(postgres_url, schema=schema)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> Store:
    """Each store implementation in turn, for the contract tests."""
    fixture: Store = request.getfixturevalue(f"{request.param}_store")
    return fixture


@pytest.fixture
async def names(amqp_url: str) -> AsyncIterator[TopologySettings]:
    """The relay's exchanges and unrouted queue under this test's own names, deleted after."""
    names = unique_topology("consumers")
    yield names
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(names.unrouted)
        for exchange in (names.unrouted, names.delivery_reports, names.inbound):
            await channel.exchange_delete(exchange)


@pytest.fixture
async def relay(
    aiohttp_client: Callable[..., Awaitable[Client]], amqp_url: str, names: TopologySettings
) -> Client:
    """An in-process relay publishing to `names`, ready."""
    return await ready_relay(aiohttp_client, relay_settings(amqp_url, names))


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes started by a test; any still running at the end are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
