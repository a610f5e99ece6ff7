"""The recovery broker verbs against a real RabbitMQ: confirms, returns, peek, no password."""

from __future__ import annotations

import uuid

import aio_pika
import pytest

from relay.config import AmqpSettings, Secret
from relay.recovery import broker


def _name() -> str:
    return f"test.recovery.{uuid.uuid4().hex[:8]}"


async def test_a_publish_no_queue_is_bound_for_is_unroutable(amqp_url: str) -> None:
    """mandatory + a return: the publish raises instead of vanishing."""
    name = _name()
    async with broker.confirmed_channel(AmqpSettings(url=Secret(amqp_url))) as channel:
        exchange = await channel.declare_exchange(
            name, aio_pika.ExchangeType.TOPIC, auto_delete=True
        )
        with pytest.raises(broker.Unroutable):
            await broker.publish_confirmed(channel, name, "nobody", aio_pika.Message(b"{}"))
        await exchange.delete()


async def test_peek_leaves_unacked_messages_in_the_queue(amqp_url: str) -> None:
    """peek takes at most `limit`; what was not acked is back once the channel closes."""
    name, settings = _name(), AmqpSettings(url=Secret(amqp_url))
    async with broker.confirmed_channel(settings) as channel:
        await channel.declare_queue(name)
        for n in range(3):
            await broker.publish_confirmed(channel, "", name, aio_pika.Message(str(n).encode()))
        seen = [m.body async for m in broker.peek(channel, name, 2)]
    assert seen == [b"0", b"1"]
    async with broker.confirmed_channel(settings) as channel:
        queue = await channel.declare_queue(name, passive=True)
        assert queue.declaration_result.message_count == 3
        await channel.queue_delete(name)


async def test_an_unreachable_broker_is_one_line_without_the_password() -> None:
    """Every address tried is named by host and port; the password never appears."""
    settings = AmqpSettings(
        urls=(Secret("amqp://u:hunter2@127.0.0.1:1/"), Secret("amqp://u:hunter2@127.0.0.1:2/v")),
        connect_timeout=2.0,
    )
    with pytest.raises(broker.BrokerUnreachable) as caught:
        async with broker.confirmed_channel(settings):
            pass
    text = str(caught.value)
    assert "hunter2" not in text
    assert "127.0.0.1:1" in text
    assert "127.0.0.1:2/v" in text
    assert "\n" not in text
