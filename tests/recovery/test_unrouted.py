"""`relay unrouted list|redrive` against a real broker, under unique names."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections import Counter
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel
from pamqp.common import FieldTable

from relay.callback.validation import classify
from relay.config import AmqpSettings, Secret, TopologySettings
from relay.contract import message, samples, topology
from relay.contract.routing import ROUTES, exchange_for
from relay.recovery import unrouted
from relay.recovery.broker import confirmed_channel
from relay.recovery.console import Progress
from tests.names import unique_topology


@pytest.fixture
async def names(amqp_url: str) -> AsyncIterator[TopologySettings]:
    """A declared topology of this test's own; deleted afterwards with the test queue."""
    names = unique_topology("unr")
    async with await aio_pika.connect(amqp_url) as connection:
        await topology.declare(await connection.channel(), names)
        yield names
        channel = await connection.channel()
        for exchange in (names.delivery_reports, names.inbound, names.unrouted):
            await channel.exchange_delete(exchange)
        for queue in (names.unrouted, f"{names.inbound}.bound"):
            await channel.queue_delete(queue)


def _body(type_: str) -> bytes:
    return samples.sample(type_, random.Random())


async def _publish_as_the_relay(
    channel: AbstractChannel, names: TopologySettings, type_: str
) -> bytes:
    """A routable callback to its channel exchange, as the relay publishes it."""
    body = _body(type_)
    exchange = await channel.get_exchange(exchange_for(names, ROUTES[type_]))
    headers: FieldTable = {
        message.DEDUP_KEY: classify(body).dedup_key,
        message.REQUEST_ID: f"req-{type_}",
    }
    await exchange.publish(aio_pika.Message(body, headers=headers, type=type_), type_)
    return body


async def _unknown_type(channel: AbstractChannel, names: TopologySettings) -> None:
    body = b'{"type":"mo_hologram","id":"01HOLO"}'
    headers: FieldTable = {
        message.DEDUP_KEY: classify(body).dedup_key,
        message.UNROUTED_REASON: "unknown_type",
        message.SINCH_TYPE: "mo_hologram",
    }
    exchange = await channel.get_exchange(names.unrouted)
    await exchange.publish(aio_pika.Message(body, headers=headers), "mo_hologram")


async def _fill(amqp_url: str, names: TopologySettings) -> bytes:
    """An unbound mo_text (its body returned), an unbound delivery report, an unknown type."""
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel(publisher_confirms=True)
        body = await _publish_as_the_relay(channel, names, "mo_text")
        await _publish_as_the_relay(channel, names, "delivery_report_sms")
        await _unknown_type(channel, names)
    return body


async def _bind_inbound(
    channel: AbstractChannel, names: TopologySettings
) -> aio_pika.abc.AbstractQueue:
    queue = await channel.declare_queue(f"{names.inbound}.bound", durable=True)
    await queue.bind(names.inbound, routing_key="mo_text")
    return queue


async def _redrive(amqp_url: str, run: unrouted.Redrive) -> Counter[str]:
    counts: Counter[str] = Counter()
    async with confirmed_channel(AmqpSettings(url=Secret(amqp_url))) as channel:
        total = await unrouted.planned(channel, run)
        await unrouted.redrive(channel, run, total, Progress(total, "t"), counts)
    return counts


async def _depth(channel: AbstractChannel, queue: str) -> int:
    declared = await channel.declare_queue(queue, passive=True)
    return declared.declaration_result.message_count or 0


async def test_redrive_republishes_only_what_a_queue_is_bound_for_now(
    amqp_url: str, names: TopologySettings
) -> None:
    """mo_text (now bound) goes once, same body and dedup key; the unbound delivery report
    and the unknown type stay; a second run republishes nothing."""
    body = await _fill(amqp_url, names)
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        bound = await _bind_inbound(channel, names)
        first = await _redrive(amqp_url, unrouted.Redrive(names))
        second = await _redrive(amqp_url, unrouted.Redrive(names))
        got = await bound.get(no_ack=True, timeout=5)
        assert await _depth(channel, bound.name) == 0
        left = await _depth(channel, names.unrouted)
    assert first == {unrouted.REPUBLISHED: 1, unrouted.STILL_UNBOUND: 1, unrouted.NOT_ROUTABLE: 1}
    assert second == {unrouted.STILL_UNBOUND: 1, unrouted.NOT_ROUTABLE: 1}
    assert got.body == body
    assert got.headers[message.DEDUP_KEY] == classify(body).dedup_key
    assert got.headers[message.RELAY_SOURCE] == "unrouted"
    assert left == 2


async def test_a_dry_run_publishes_nothing_and_type_filters(
    amqp_url: str, names: TopologySettings
) -> None:
    """--dry-run counts the routable; --type leaves other types alone; nothing moves."""
    await _fill(amqp_url, names)
    run = unrouted.Redrive(names, frozenset({"mo_text"}), dry_run=True)
    dry = await _redrive(amqp_url, run)
    async with await aio_pika.connect(amqp_url) as connection:
        left = await _depth(await connection.channel(), names.unrouted)
    assert dry == {unrouted.WOULD: 1, unrouted.OTHER_TYPE: 1, unrouted.NOT_ROUTABLE: 1}
    assert run.would == [["req-mo_text", "mo_text", names.inbound]]
    assert left == 3


async def test_the_cli_lists_without_removing_and_ends_on_one_summary_line(
    amqp_url: str, names: TopologySettings
) -> None:
    """`relay unrouted list` shows type, reason, request id, Sinch id; the queue keeps all."""
    await _fill(amqp_url, names)
    env = {
        **os.environ,
        "RELAY_AMQP_URL": amqp_url,
        "RELAY_TOPOLOGY_UNROUTED": names.unrouted,
        "RELAY_TOPOLOGY_INBOUND": names.inbound,
        "RELAY_TOPOLOGY_DELIVERY_REPORTS": names.delivery_reports,
        "RELAY_TOPOLOGY_QUARANTINE": names.quarantine,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "relay", "unrouted", "list", "--limit", "10",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].split() == ["type", "reason", "request", "id", "sinch", "id", "age"]
    assert any(ln.split()[:3] == ["mo_text", "no_binding", "req-mo_text"] for ln in lines)
    assert any(ln.split()[:2] == ["mo_hologram", "unknown_type"] for ln in lines)
    assert "id=01HOLO" in out.decode()
    assert lines[-1] == "relay unrouted list: 3 shown (left in the queue)"
    assert "\r" not in err.decode()
    async with await aio_pika.connect(amqp_url) as connection:
        assert await _depth(await connection.channel(), names.unrouted) == 3
