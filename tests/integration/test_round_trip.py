"""Against a real RabbitMQ: what the relay publishes, where, and that 2xx means held."""

from __future__ import annotations

import asyncio

import aio_pika
import orjson
import pytest
from aio_pika.abc import AbstractChannel

from relay.config import TopologySettings
from relay.contract import topology
from relay.contract.routing import ROUTES, exchange_for
from tests.integration.conftest import (
    RelayFactory,
    assert_empty,
    bind_all,
    drain,
    wait_until_ready,
)
from tests.payloads import BODIES

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("type_", sorted(ROUTES))
async def test_each_type_round_trips_byte_identical(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings, type_: str
) -> None:
    """The bound queue receives the exact bytes, on the right exchange and routing key."""
    client = await start_relay()
    queue = await bind_all(channel, names)
    response = await client.post("/sms", data=BODIES[type_], headers={"User-Agent": "Sinch/1"})
    assert response.status == 200
    (message,) = await drain(queue, 1)
    expected_exchange = exchange_for(names, ROUTES[type_])
    assert message.body == BODIES[type_]
    assert (message.exchange, message.routing_key, message.type) == (
        expected_exchange,
        type_,
        type_,
    )
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert message.message_id
    assert message.timestamp is not None
    assert len(message.headers["x-dedup-key"]) == 64  # type: ignore[arg-type]
    assert message.headers["http-user-agent"] == "Sinch/1"
    assert message.headers["x-request-id"] == response.headers["X-Request-Id"]


async def test_malformed_bodies_get_400_and_publish_nothing(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings
) -> None:
    """Neither the channel exchanges nor the unrouted queue see a rejected body."""
    client = await start_relay()
    queue = await bind_all(channel, names)
    for body in (b"", b"{", b"[]", b'{"no_type":1}'):
        assert (await client.post("/sms", data=body)).status == 400
    await assert_empty(queue)
    unrouted = await channel.declare_queue(names.unrouted, passive=True)
    await assert_empty(unrouted, settle=0)


async def test_unknown_and_invalid_types_land_in_unrouted_with_a_reason(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings
) -> None:
    """2xx, and the unrouted queue holds them with x-unrouted-reason."""
    client = await start_relay()
    invalid = orjson.loads(BODIES["mo_text"])
    del invalid["to"]
    for body in (b'{"type":"rcs_event","x":1}', orjson.dumps(invalid)):
        assert (await client.post("/sms/incoming", data=body)).status == 200
    unrouted = await channel.declare_queue(names.unrouted, passive=True)
    messages = await drain(unrouted, 2)
    assert [m.headers["x-unrouted-reason"] for m in messages] == [
        "unknown_type",
        "missing_field:to",
    ]
    assert messages[0].body == b'{"type":"rcs_event","x":1}'


async def test_a_routing_key_nobody_binds_is_kept_in_unrouted(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings
) -> None:
    """The alternate exchange catches a valid callback no downstream queue wants yet."""
    client = await start_relay()
    assert (await client.post("/sms", data=BODIES["delivery_report_mms"])).status == 200
    unrouted = await channel.declare_queue(names.unrouted, passive=True)
    (message,) = await drain(unrouted, 1)
    assert message.body == BODIES["delivery_report_mms"]
    assert message.routing_key == "delivery_report_mms"
    assert "x-unrouted-reason" not in message.headers


async def test_no_2xx_when_no_queue_at_all_holds_the_message(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings
) -> None:
    """With the unrouted queue gone, the broker returns the message: the relay says 503."""
    client = await start_relay()
    await channel.queue_delete(names.unrouted)
    response = await client.post("/sms", data=BODIES["mo_text"])
    assert response.status == 503
    assert response.headers["Retry-After"]


async def test_passive_mode_waits_for_an_operator_to_declare_the_topology(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings, amqp_url: str
) -> None:
    """With declare=false the relay creates nothing, answers 503, and recovers once it exists."""
    client = await start_relay(wait_ready=False, declare=False)
    await asyncio.sleep(0.5)
    assert (await client.get("/readyz")).status == 503
    assert (await client.post("/sms", data=BODIES["mo_text"])).status == 503
    with pytest.raises(aio_pika.exceptions.ChannelClosed):
        await channel.get_exchange(names.inbound, ensure=True)  # the relay declared nothing
    async with await aio_pika.connect(amqp_url) as operator:
        await topology.declare(await operator.channel(), names)
    await wait_until_ready(client)
    assert (await client.post("/sms", data=BODIES["mo_text"])).status == 200


async def test_concurrent_publishes_each_get_their_own_confirm_or_return(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings
) -> None:
    """Publishes framed in one write keep their own verdict: routable 200, returned 503."""
    client = await start_relay()
    await channel.queue_delete(names.unrouted)  # unbound types now come back unroutable
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(names.inbound, routing_key="mo_text")
    texts = [_with_id("mo_text", f"text-{i}") for i in range(60)]
    binaries = [_with_id("mo_binary", f"bin-{i}") for i in range(60)]
    bodies = [b for pair in zip(texts, binaries, strict=True) for b in pair]
    answers = await asyncio.gather(*(client.post("/sms", data=b) for b in bodies))
    verdicts = {body: response.status for body, response in zip(bodies, answers, strict=True)}
    assert [verdicts[b] for b in texts] == [200] * len(texts)
    assert [verdicts[b] for b in binaries] == [503] * len(binaries)
    assert sorted(m.body for m in await drain(queue, len(texts) + 1)) == sorted(texts)


def _with_id(type_: str, id_: str) -> bytes:
    doc = orjson.loads(BODIES[type_])
    doc["id"] = id_
    return orjson.dumps(doc)


async def test_a_body_larger_than_one_amqp_frame_round_trips_byte_identical(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings
) -> None:
    """An MMS callback of 600 KB spans several body frames and arrives unchanged."""
    client = await start_relay()
    queue = await bind_all(channel, names)
    doc = orjson.loads(BODIES["mo_media"])
    doc["body"]["message"] = "x" * 600_000
    body = orjson.dumps(doc)
    assert (await client.post("/sms/incoming", data=body)).status == 200
    (message,) = await drain(queue, 1)
    assert message.body == body
