"""archive.enabled against the real broker, under both pipelines: every accepted callback
is also in the archive stream, and the unrouted safety net still works."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from relay.config import ArchiveSettings, TopologySettings
from relay.contract import topology
from relay.recovery import archive
from relay.recovery.window import Window
from tests.integration.conftest import bind_all, drain, ready_relay, relay_settings
from tests.payloads import BODIES

pytestmark = pytest.mark.integration
Client = TestClient[Any, Any]
Start = Callable[[], Awaitable[Client]]


@pytest.fixture
async def archived(channel: AbstractChannel, names: TopologySettings) -> AsyncIterator[None]:
    """Deletes the test's archive stream afterwards."""
    yield
    await channel.queue_delete(names.archive)


@pytest.fixture
def start(
    aiohttp_client: Callable[..., Awaitable[Client]],
    amqp_url: str,
    names: TopologySettings,
    pipeline: str,
    archived: None,
) -> Start:
    """The real app with `archive.enabled`, ready."""

    async def make() -> Client:
        settings = relay_settings(amqp_url, names, pipeline=pipeline)
        settings = dataclasses.replace(settings, archive=ArchiveSettings(enabled=True))
        return await ready_relay(aiohttp_client, settings)

    return make


async def read_archive(channel: AbstractChannel, stream: str) -> list[AbstractIncomingMessage]:
    now = datetime.datetime.now(datetime.UTC)
    whole = Window(now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1))
    return [m async for m in archive.read(channel, stream, whole, idle=0.5)]


def dedup_keys(messages: list[AbstractIncomingMessage]) -> list[object]:
    return [(m.headers or {})["x-dedup-key"] for m in messages]


async def test_each_accepted_callback_is_also_in_the_archive(
    start: Start, channel: AbstractChannel, names: TopologySettings
) -> None:
    """The bound queue and the stream hold the same bodies, properties and headers."""
    relay = await start()
    queue = await bind_all(channel, names)
    types = ("mo_text", "recipient_delivery_report_sms", "delivery_report_sms")
    for type_ in types:
        assert (await relay.post("/sms", data=BODIES[type_])).status == 200
    delivered = await drain(queue, 3)
    kept = await read_archive(channel, names.archive)
    assert [m.body for m in kept] == [BODIES[t] for t in types]
    assert [m.body for m in delivered] == [m.body for m in kept]
    assert dedup_keys(kept) == dedup_keys(delivered)
    assert [m.message_id for m in kept] == [m.message_id for m in delivered]
    assert [m.type for m in kept] == list(types)


async def test_a_type_no_queue_is_bound_for_still_lands_in_unrouted(
    start: Start, channel: AbstractChannel, names: TopologySettings
) -> None:
    """No consumer queue bound: the alternate exchange still fires; the archive has it too."""
    relay = await start()
    unrouted = await channel.get_queue(names.unrouted)
    assert (await relay.post("/sms", data=BODIES["mo_text"])).status == 200
    assert [m.body for m in await drain(unrouted, 1)] == [BODIES["mo_text"]]
    assert [m.body for m in await read_archive(channel, names.archive)] == [BODIES["mo_text"]]


async def test_a_callback_the_archive_cannot_take_is_answered_503(
    start: Start, channel: AbstractChannel, names: TopologySettings
) -> None:
    """The stream gone: its copy comes back unroutable, so the request fails and Sinch retries."""
    relay = await start()
    queue = await bind_all(channel, names)
    await channel.queue_delete(names.archive)
    assert (await relay.post("/sms", data=BODIES["mo_text"])).status == 503
    assert (await relay.post("/sms", data=BODIES["mo_binary"])).status == 503
    arguments = topology.archive_arguments(ArchiveSettings(enabled=True))
    await channel.declare_queue(names.archive, durable=True, arguments=arguments)
    assert (await relay.post("/sms", data=BODIES["mo_text"])).status == 200
    bodies = [m.body for m in await drain(queue, 3, timeout=1.0)]
    assert bodies[-1] == BODIES["mo_text"]


async def test_a_stream_with_other_retention_is_kept_and_the_relay_serves(
    start: Start, channel: AbstractChannel, names: TopologySettings
) -> None:
    """RabbitMQ refuses to redeclare it with other arguments: the relay warns and goes on."""
    await channel.declare_queue(
        names.archive, durable=True, arguments={"x-queue-type": "stream", "x-max-age": "1D"}
    )
    with capture_logs() as logs:
        relay = await start()
    assert [e["stream"] for e in logs if e["event"] == "archive.retention_differs"] == [
        names.archive
    ]
    assert (await relay.post("/sms", data=BODIES["mo_text"])).status == 200
    assert [m.body for m in await read_archive(channel, names.archive)] == [BODIES["mo_text"]]


async def test_a_callback_no_queue_holds_is_still_503_with_the_archive_on(
    start: Start, channel: AbstractChannel, names: TopologySettings
) -> None:
    """The unrouted queue gone too: the original comes back unroutable, so 503 as without
    the archive, although its copy reached the stream; the relay keeps serving."""
    relay = await start()
    await channel.queue_delete(names.unrouted)
    assert (await relay.post("/sms", data=BODIES["mo_text"])).status == 503
    queue = await bind_all(channel, names)
    assert (await relay.post("/sms", data=BODIES["mo_binary"])).status == 200
    assert [m.body for m in await drain(queue, 1)] == [BODIES["mo_binary"]]


async def test_an_alternate_exchange_still_fires_behind_an_exchange_to_exchange_binding(
    channel: AbstractChannel, names: TopologySettings
) -> None:
    """The broker fact docs/recovery.md weighs the intake design on: reached through an
    e2e binding, a channel exchange with no matching queue still uses its alternate."""
    await topology.declare(channel, names)
    intake = await channel.declare_exchange(f"{names.inbound}.intake", "topic", auto_delete=True)
    inbound = await channel.get_exchange(names.inbound)
    await inbound.bind(intake, routing_key="#")
    await intake.publish(aio_pika.Message(BODIES["mo_text"]), routing_key="mo_text")
    unrouted = await channel.get_queue(names.unrouted)
    assert [m.body for m in await drain(unrouted, 1)] == [BODIES["mo_text"]]
    await intake.delete()
