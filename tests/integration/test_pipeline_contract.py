"""One contract for both publish pipelines (`amqp.pipeline`), against the real broker.

Each test runs once per pipeline (the `pipeline` fixture): ack, nack, return, channel
close, confirm timeout and blocked must give the same outcome, as the same `RelayError`.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aio_pika.abc import AbstractChannel

from relay.amqp import _aiormq
from relay.amqp.publisher import AmqpPublisher
from relay.callback.envelope import Outgoing
from relay.config import TopologySettings
from relay.errors import BrokerBlocked, ConfirmTimeout, Nacked, Unavailable
from tests.integration.conftest import drain, relay_settings, via
from tests.tcp_proxy import FaultProxy

pytestmark = pytest.mark.integration

Start = Callable[..., Awaitable[AmqpPublisher]]


@pytest.fixture
async def start(
    amqp_url: str, names: TopologySettings, pipeline: str, channel: AbstractChannel
) -> AsyncIterator[Start]:
    """Start a publisher with `pipeline` (and any amqp settings); wait until it is ready."""
    started: list[AmqpPublisher] = []

    async def make(url: str | None = None, **amqp: object) -> AmqpPublisher:
        settings = relay_settings(url or amqp_url, names, pipeline=pipeline, **amqp)
        publisher = AmqpPublisher(settings.amqp, settings.topology)
        started.append(publisher)
        await publisher.start()
        await ready(publisher)
        return publisher

    yield make
    for publisher in started:
        await publisher.close(0.5)


async def ready(publisher: AmqpPublisher) -> None:
    async with asyncio.timeout(10):
        while not all(publisher.readiness().values()):
            await asyncio.sleep(0.02)


def message(exchange: str) -> Outgoing:
    when = datetime.datetime.now(datetime.UTC)
    return Outgoing(exchange, "k", b"{}", uuid.uuid4().hex, "c", when, "t", {"h": "v"})


async def test_a_routed_publish_is_acked_and_queued(
    start: Start, channel: AbstractChannel, names: TopologySettings
) -> None:
    """Basic.Ack: publish returns, and the message is in the bound queue."""
    publisher = await start()
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(names.inbound, routing_key="#")
    sent = message(names.inbound)
    await publisher.publish(sent)
    assert [m.message_id for m in await drain(queue, 1)] == [sent.message_id]


async def test_a_publish_to_a_full_reject_publish_queue_is_nacked(
    start: Start, channel: AbstractChannel, names: TopologySettings
) -> None:
    """Basic.Nack (x-max-length 1, reject-publish): the second publish raises Nacked."""
    publisher = await start()
    queue = await channel.declare_queue(
        exclusive=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"}
    )
    await queue.bind(names.inbound, routing_key="#")
    await publisher.publish(message(names.inbound))
    with pytest.raises(Nacked):
        await publisher.publish(message(names.inbound))


async def test_an_unroutable_mandatory_publish_is_returned_as_unavailable(
    start: Start, channel: AbstractChannel, names: TopologySettings
) -> None:
    """Basic.Return (no binding, no alternate exchange): Unavailable, never an ack."""
    publisher = await start()
    bare = f"{names.inbound}.bare"
    await channel.declare_exchange(bare, auto_delete=True)
    with pytest.raises(Unavailable, match="returned"):
        await publisher.publish(message(bare))
    await channel.exchange_delete(bare)


async def test_a_channel_closed_under_a_publish_is_unavailable_and_heals(
    start: Start, names: TopologySettings
) -> None:
    """Channel.Close (404, no such exchange): Unavailable; the publisher reconnects."""
    publisher = await start()
    with pytest.raises(Unavailable):
        await publisher.publish(message(f"{names.inbound}.missing"))
    await ready(publisher)
    await publisher.publish(message(names.inbound))


async def test_a_confirm_that_never_comes_is_a_confirm_timeout(
    start: Start, proxy: FaultProxy, amqp_url: str, names: TopologySettings
) -> None:
    """Confirms withheld by the proxy: ConfirmTimeout after amqp.confirm_timeout."""
    publisher = await start(via(amqp_url, proxy), confirm_timeout=0.3, heartbeat=0)
    proxy.stall()
    with pytest.raises(ConfirmTimeout):
        await asyncio.wait_for(publisher.publish(message(names.inbound)), 5)


async def test_a_connection_cut_under_a_publish_fails_it_at_once(
    start: Start, proxy: FaultProxy, amqp_url: str, names: TopologySettings
) -> None:
    """Connection lost while a confirm is pending: Unavailable, not ConfirmTimeout."""
    publisher = await start(via(amqp_url, proxy), confirm_timeout=30, heartbeat=0)
    proxy.stall()
    pending = asyncio.create_task(publisher.publish(message(names.inbound)))
    await asyncio.sleep(0.3)
    proxy.cut()
    with pytest.raises(Unavailable) as failed:
        await asyncio.wait_for(pending, 5)
    assert not isinstance(failed.value, ConfirmTimeout)


async def test_a_blocked_connection_refuses_with_broker_blocked(
    start: Start, names: TopologySettings
) -> None:
    """Connection.Blocked (the event aiormq clears): BrokerBlocked until it is set again."""
    publisher = await start()
    event = _aiormq.unblocked_event(publisher._connection)  # type: ignore[arg-type]
    assert event is not None
    event.clear()
    assert not publisher.readiness()["not_blocked"]
    with pytest.raises(BrokerBlocked):
        await publisher.publish(message(names.inbound))
    event.set()
    await publisher.publish(message(names.inbound))
