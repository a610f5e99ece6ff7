"""`relay backfill` against the fake Sinch server and the real broker."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import orjson
import pytest
from aio_pika.abc import AbstractChannel

from relay.cli import backfill as backfill_cli
from relay.config import ArchiveSettings, Secret, Settings, SinchSettings, TopologySettings
from relay.contract import topology
from relay.recovery import archive
from relay.recovery.backfill import Plan
from relay.recovery.sinch_api import Kind
from relay.recovery.window import Window
from tests.integration.conftest import relay_settings
from tests.names import unique_topology
from tests.support.fake_sinch import FakeSinch, running
from tests.support.ports import free_port

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
WINDOW = Window(NOW - datetime.timedelta(hours=1), NOW)


def mo(n: int) -> dict[str, Any]:
    when = (NOW - datetime.timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"type": "mo_text", "id": f"mo-{n}", "from": "46700000001", "to": "12345",
            "body": f"hi {n}", "received_at": when}  # fmt: skip


@pytest.fixture
async def sinch() -> AsyncIterator[FakeSinch]:
    async with running(FakeSinch("plan", "token")) as fake:
        fake.items["inbounds"] = [mo(1), mo(2)]
        yield fake


def with_sinch(settings: Settings, fake: FakeSinch) -> Settings:
    api = SinchSettings(api_url=fake.url, service_plan_id="plan", api_token=Secret("token"))
    return dataclasses.replace(settings, sinch=api, archive=ArchiveSettings(enabled=True))


@pytest.fixture
async def declared(amqp_url: str) -> AsyncIterator[tuple[TopologySettings, AbstractChannel]]:
    names = unique_topology("backfill")
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        await topology.declare(channel, names, archive=ArchiveSettings(enabled=True))
        yield names, channel
        for queue in (names.unrouted, names.archive):
            await channel.queue_delete(queue)
        for exchange in (names.unrouted, names.delivery_reports, names.inbound):
            await channel.exchange_delete(exchange)


async def test_with_the_archive_on_backfilled_messages_are_archived_too(
    amqp_url: str, sinch: FakeSinch, declared: tuple[TopologySettings, AbstractChannel]
) -> None:
    """A later replay finds them: in the stream, marked x-relay-source: backfill."""
    names, channel = declared
    settings = with_sinch(relay_settings(amqp_url, names), sinch)
    inbound: tuple[Kind, ...] = ("inbounds",)
    plan = Plan(WINDOW, inbound, dry_run=False, archive=True)
    assert await backfill_cli.command(settings, plan) == {"mo_text": 2}
    whole = Window(NOW - datetime.timedelta(hours=1), NOW + datetime.timedelta(hours=1))
    kept = [m async for m in archive.read(channel, names.archive, whole, idle=0.5)]
    assert [(m.headers or {}).get("x-relay-source") for m in kept] == ["backfill", "backfill"]
    assert sorted(m.body for m in kept) == sorted(orjson.dumps(i) for i in sinch.items["inbounds"])


async def test_a_dry_run_needs_no_broker(sinch: FakeSinch) -> None:
    """Counts from Sinch's lists, with the broker's port closed."""
    settings = with_sinch(relay_settings(f"amqp://guest:guest@127.0.0.1:{free_port()}/",
                                         unique_topology()), sinch)  # fmt: skip
    plan = Plan(WINDOW, ("inbounds", "delivery_reports"), dry_run=True)
    assert await backfill_cli.command(settings, plan) == {"mo_text": 2}
