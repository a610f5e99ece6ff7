"""A relay whose refusals go to a real quarantine queue, and a way to redrive it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import pytest
from aiohttp.test_utils import TestClient

from relay.amqp.quarantine import QuarantineSink
from relay.cli.topology import bind_example
from relay.config import AmqpSettings, QuarantineSettings, Secret, SecuritySettings, Settings
from relay.contract import topology
from relay.edge.app import create_app
from relay.recovery import quarantine
from relay.recovery.broker import confirmed_channel, waiting
from relay.recovery.console import Progress
from relay.recovery.recheck import Checks
from tests.names import unique_topology
from tests.support.fakes import FakePublisher


@dataclasses.dataclass
class Held:
    """The test's broker names and settings; `security` is what the relay runs with."""

    amqp_url: str
    settings: Settings
    bound: str  # a queue bound to every type, as a consumer's

    def with_security(self, **kwargs: Any) -> Settings:
        return dataclasses.replace(self.settings, security=SecuritySettings(**kwargs))

    async def depth(self, queue: str | None = None) -> int:
        async with confirmed_channel(self.settings.amqp) as channel:
            return await waiting(channel, queue or self.settings.topology.quarantine)

    async def held_until(self, count: int) -> None:
        """Wait (at most 10 s) until the quarantine holds `count` messages."""
        deadline = time.monotonic() + 10
        while await self.depth() < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert await self.depth() == count

    async def redrive(self, settings: Settings, dry_run: bool = False) -> quarantine.Redrive:
        run = quarantine.Redrive(Checks(settings), dry_run)
        async with confirmed_channel(settings.amqp) as channel:
            total = await quarantine.planned(channel, settings, 10_000)
            await quarantine.redrive(channel, run, total, Progress(total, "t"))
        return run

    async def delivered(self) -> list[aio_pika.abc.AbstractIncomingMessage]:
        """Everything the bound queue got, taken from it."""
        async with await aio_pika.connect(self.amqp_url) as connection:
            queue = await (await connection.channel()).declare_queue(self.bound, passive=True)
            got = []
            while (message := await queue.get(no_ack=True, fail=False)) is not None:
                got.append(message)
            return got


@pytest.fixture
async def held(amqp_url: str) -> AsyncIterator[Held]:
    """A declared topology, a bound queue and a quarantine queue, all this test's own."""
    names = unique_topology("qua")
    hold = QuarantineSettings()
    settings = Settings(amqp=AmqpSettings(url=Secret(amqp_url)), topology=names, quarantine=hold)
    bound = f"{names.inbound}.bound"
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        await topology.declare(channel, names, hold)
        await bind_example(channel, names, bound)
        yield Held(amqp_url, settings, bound)
        channel = await connection.channel()
        for exchange in (names.delivery_reports, names.inbound, names.unrouted):
            await channel.exchange_delete(exchange)
        for queue in (names.unrouted, names.quarantine, bound):
            await channel.queue_delete(queue)


Client = TestClient[Any, Any]
EdgeFactory = Callable[[Settings], Awaitable[Client]]


@pytest.fixture
async def edge(aiohttp_client: Any) -> AsyncIterator[EdgeFactory]:
    """The real app (fake publisher: everything here is refused) with a real sink."""
    sinks: list[QuarantineSink] = []

    async def start(settings: Settings) -> Client:
        sink = QuarantineSink(settings.amqp, settings.quarantine, settings.topology)
        sinks.append(sink)
        await sink.start()
        deadline = time.monotonic() + 10
        while not sink.connected and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert sink.connected
        client: Client = await aiohttp_client(
            create_app(settings, FakePublisher(), quarantine=sink)
        )
        return client

    yield start
    for sink in sinks:
        await sink.close()


def nonce() -> str:
    return uuid.uuid4().hex
