"""Integration fixtures: a real broker, per-test exchange names, a running relay app."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from aiohttp.test_utils import TestClient

from relay.config import AmqpSettings, Secret, Settings, TopologySettings
from relay.edge.app import create_app
from tests.names import unique_topology
from tests.tcp_proxy import FaultProxy, proxy_to

ClientFactory = Callable[..., Awaitable[TestClient]]  # type: ignore[type-arg]
RelayFactory = Callable[..., Awaitable[TestClient]]  # type: ignore[type-arg]


@pytest.fixture
def names() -> TopologySettings:
    """Exchange and queue names unique to this test, so tests never see each other."""
    return unique_topology()


@pytest.fixture
async def channel(amqp_url: str, names: TopologySettings) -> AsyncIterator[AbstractChannel]:
    """The test's own channel to the broker; deletes the test's topology afterwards."""
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    yield channel
    cleanup = await connection.channel()
    for exchange in (names.delivery_reports, names.inbound, names.unrouted):
        await cleanup.exchange_delete(exchange)
    await cleanup.queue_delete(names.unrouted)
    await connection.close()


def relay_settings(url: str, names: TopologySettings, **amqp: object) -> Settings:
    base = AmqpSettings(url=Secret(url), reconnect_interval=0.1, connect_timeout=1.0)
    return Settings(amqp=dataclasses.replace(base, **amqp), topology=names)  # type: ignore[arg-type]


@pytest.fixture(params=["batched", "public"])
def pipeline(request: pytest.FixtureRequest) -> str:
    """Each publishing test runs under both publish pipelines (`amqp.pipeline`)."""
    return str(request.param)


@pytest.fixture
def start_relay(
    aiohttp_client: ClientFactory, amqp_url: str, names: TopologySettings, pipeline: str
) -> RelayFactory:
    """Start the real app (real AmqpPublisher) against `url` (default: the test broker)."""

    async def start(
        url: str | None = None, wait_ready: bool = True, declare: bool = True, **amqp: object
    ) -> TestClient:  # type: ignore[type-arg]
        topology = dataclasses.replace(names, declare=declare)
        settings = relay_settings(url or amqp_url, topology, **{"pipeline": pipeline, **amqp})
        if wait_ready:
            return await ready_relay(aiohttp_client, settings)
        return await aiohttp_client(create_app(settings))

    return start


@pytest.fixture
async def proxy(amqp_url: str) -> AsyncIterator[FaultProxy]:
    """A TCP proxy in front of the test broker that the test can cut and restore."""
    async with proxy_to(amqp_url, 5672) as proxy:
        yield proxy


def via(amqp_url: str, proxy: FaultProxy) -> str:
    """`amqp_url` with its host and port replaced by the proxy's."""
    return proxy.url_for(amqp_url)


async def ready_relay(aiohttp_client: ClientFactory, settings: Settings) -> TestClient:  # type: ignore[type-arg]
    """The real app under `settings` in a test client, once `/readyz` says 200."""
    client = await aiohttp_client(create_app(settings))
    await wait_until_ready(client)
    return client


async def wait_until_ready(client: TestClient, timeout: float = 15.0) -> None:  # type: ignore[type-arg]
    async with asyncio.timeout(timeout):
        while (await client.get("/readyz")).status != 200:
            await asyncio.sleep(0.05)


async def bind_all(channel: AbstractChannel, names: TopologySettings) -> AbstractQueue:
    """An exclusive queue bound with '#' to both channel exchanges."""
    queue = await channel.declare_queue(exclusive=True)
    for exchange in (names.delivery_reports, names.inbound):
        await queue.bind(exchange, routing_key="#")
    return queue


async def drain(
    queue: AbstractQueue, expected: int, timeout: float = 5.0
) -> list[AbstractIncomingMessage]:
    """Get up to `expected` messages, waiting at most `timeout` for them to arrive."""
    got: list[AbstractIncomingMessage] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(got) < expected and loop.time() < deadline:
        message = await queue.get(no_ack=True, fail=False)
        if message is None:
            await asyncio.sleep(0.02)
        else:
            got.append(message)
    return got


async def assert_empty(queue: AbstractQueue, settle: float = 0.3) -> None:
    """Nothing arrives in `queue` within `settle` seconds."""
    await asyncio.sleep(settle)
    assert await queue.get(no_ack=True, fail=False) is None
