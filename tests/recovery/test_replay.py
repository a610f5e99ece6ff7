"""`relay replay` against the real broker: exactly the window, same dedup keys, bounded."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import orjson
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from aiohttp.test_utils import TestClient

from relay.cli import replay as replay_cli
from relay.config import ArchiveSettings, Settings, TopologySettings
from relay.recovery.replay import Plan
from relay.recovery.window import Window
from tests.integration.conftest import (
    assert_empty,
    bind_all,
    drain,
    ready_relay,
    relay_settings,
)
from tests.names import unique_topology

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
Client = TestClient[Any, Any]


@pytest.fixture
def names() -> TopologySettings:
    return unique_topology("replay")


@pytest.fixture
async def channel(amqp_url: str, names: TopologySettings) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield await connection.channel()
        cleanup = await connection.channel()
        for exchange in (names.delivery_reports, names.inbound, names.unrouted):
            await cleanup.exchange_delete(exchange)
        for queue in (names.unrouted, names.archive):
            await cleanup.queue_delete(queue)


@pytest.fixture
def settings(amqp_url: str, names: TopologySettings) -> Settings:
    base = relay_settings(amqp_url, names)
    return dataclasses.replace(base, archive=ArchiveSettings(enabled=True))


@pytest.fixture
async def relay(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, channel: AbstractChannel
) -> Client:
    return await ready_relay(aiohttp_client, settings)


def mo(n: int) -> bytes:
    return orjson.dumps(
        {"type": "mo_text", "id": f"mo-{n}", "from": "46700000001", "to": "12345",
         "body": f"hello {n}", "received_at": "2026-12-01T00:00:00Z"}
    )  # fmt: skip


def report(n: int) -> bytes:
    return orjson.dumps(
        {"type": "recipient_delivery_report_sms", "batch_id": "B1", "recipient": f"4670{n:07d}",
         "code": 0, "status": "Delivered", "at": "2026-12-01T00:00:00Z"}
    )  # fmt: skip


async def post_all(relay: Client, bodies: list[bytes]) -> None:
    for body in bodies:
        assert (await relay.post("/sms", data=body)).status == 200


async def next_second() -> datetime.datetime:
    """Sleep into the next whole second (AMQP timestamps are whole seconds); return it."""
    boundary = math.floor(time.time()) + 1
    await asyncio.sleep(boundary - time.time() + 0.01)
    return datetime.datetime.fromtimestamp(boundary, datetime.UTC)


async def three_batches(relay: Client) -> tuple[Window, list[bytes]]:
    """Posts before, inside and after a window; the window and what it holds."""
    await post_all(relay, [mo(1), report(1)])
    since = await next_second()
    inside = [mo(2), report(2), mo(3)]
    await post_all(relay, inside)
    until = await next_second()
    await post_all(relay, [mo(4), report(4)])
    return Window(since, until), inside


def keys(messages: list[AbstractIncomingMessage]) -> dict[bytes, object]:
    return {m.body: (m.headers or {})["x-dedup-key"] for m in messages}


async def fresh_queue(channel: AbstractChannel) -> AbstractQueue:
    return await channel.declare_queue(exclusive=True)


async def test_replay_to_a_new_queue_delivers_exactly_the_window_with_the_same_keys(
    relay: Client, settings: Settings, channel: AbstractChannel, names: TopologySettings
) -> None:
    """Only the window's messages, in order, same body and dedup key, marked replayed;
    the queue already bound sees nothing more."""
    bound = await bind_all(channel, names)
    window, inside = await three_batches(relay)
    originals = keys(await drain(bound, 7))
    target = await fresh_queue(channel)
    counts = await replay_cli.command(settings, Plan(window, (), target.name, False))
    got = await drain(target, len(inside) + 1, timeout=1.0)
    assert [m.body for m in got] == inside
    assert keys(got) == {body: originals[body] for body in inside}
    assert all((m.headers or {})["x-replayed"] is True for m in got)
    assert counts == {"mo_text": 2, "recipient_delivery_report_sms": 1}
    await assert_empty(bound)


async def test_replay_to_the_exchange_refeeds_every_bound_queue_by_type(
    relay: Client, settings: Settings, channel: AbstractChannel, names: TopologySettings
) -> None:
    """--to-exchange --type mo_text: each queue bound for mo_text gets the window's MOs."""
    window, inside = await three_batches(relay)
    first, second = await bind_all(channel, names), await bind_all(channel, names)
    plan = Plan(window, ("mo_text",), None, False)
    assert await replay_cli.command(settings, plan) == {"mo_text": 2}
    wanted = [b for b in inside if b'"mo_text"' in b]
    for queue in (first, second):
        got = await drain(queue, 3, timeout=1.0)
        assert [(m.body, m.routing_key) for m in got] == [(b, "mo_text") for b in wanted]


async def test_a_dry_run_counts_per_type_and_publishes_nothing(
    relay: Client,
    settings: Settings,
    channel: AbstractChannel,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command line: one summary line with the counts; the target queue stays empty."""
    window, _ = await three_batches(relay)
    target = await fresh_queue(channel)
    argv = [*window_args(window), "--to-queue", target.name, "--dry-run"]
    assert await asyncio.to_thread(replay_cli.run, parse(argv), settings) == 0
    said = capsys.readouterr().out.splitlines()  # the in-process relay logs to stdout too
    assert [line for line in said if line.startswith("relay replay")] == [
        "relay replay: 3 would replay, 2 mo_text, 1 recipient_delivery_report_sms"
        " (dry run: nothing published)"
    ]
    await assert_empty(target)


async def test_replay_into_a_queue_that_does_not_exist_is_one_line(
    relay: Client, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unroutable publish stops the replay with exit 1 and one line."""
    window, _ = await three_batches(relay)
    argv = [*window_args(window), "--to-queue", "no.such.queue.for.replay"]
    assert await asyncio.to_thread(replay_cli.run, parse(argv), settings) == 1
    assert capsys.readouterr().err.splitlines() == [
        "relay replay: no queue bound on '' for 'no.such.queue.for.replay'"
    ]


def window_args(window: Window) -> list[str]:
    since, until = (f"{t:%Y-%m-%dT%H:%M:%SZ}" for t in window)
    return ["--since", since, "--until", until]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    replay_cli.add_arguments(parser)
    return parser.parse_args(argv)
