"""The quarantine queue as `relay topology declare` makes it: bounded, oldest dropped first."""

from __future__ import annotations

import aio_pika

from relay.config import QuarantineSettings
from relay.contract import topology
from tests.names import unique_topology


async def test_the_quarantine_drops_its_oldest_message_beyond_its_length(amqp_url: str) -> None:
    """max_messages=3, four published: the first one is gone, the last three remain."""
    names = unique_topology("q")
    held = QuarantineSettings(max_messages=3)
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        await topology.declare(channel, names, held)
        for n in range(4):
            await channel.default_exchange.publish(aio_pika.Message(b"%d" % n), names.quarantine)
        queue = await channel.declare_queue(names.quarantine, passive=True)
        bodies = [(await queue.get(no_ack=True)).body for _ in range(3)]
        await topology.check(channel, names, held)
        for exchange in (names.delivery_reports, names.inbound, names.unrouted):
            await channel.exchange_delete(exchange)
        for name in (names.unrouted, names.quarantine):
            await channel.queue_delete(name)
    assert bodies == [b"1", b"2", b"3"]


async def test_the_quarantine_drops_its_oldest_bytes_beyond_its_byte_limit(amqp_url: str) -> None:
    """max_bytes=2048, three 1000-byte bodies: the oldest is dropped to stay under."""
    names = unique_topology("q")
    held = QuarantineSettings(max_bytes=2048)
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        await topology.declare_quarantine(channel, held, names)
        for n in range(3):
            await channel.default_exchange.publish(
                aio_pika.Message(b"%d" % n * 1000), names.quarantine
            )
        queue = await channel.declare_queue(names.quarantine, passive=True)
        count = queue.declaration_result.message_count
        first = await queue.get(no_ack=True)
        await channel.queue_delete(names.quarantine)
    assert count == 2
    assert first.body[:1] == b"1"
