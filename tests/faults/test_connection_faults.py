"""Scenarios 1 and 4: the relay's broker connection cut, confirms withheld, publishes nacked.

These go to the shared broker through a proxy the test controls (or a queue that
rejects), so the shared broker itself is never stopped or alarmed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.faults.checker import Report, drain
from tests.faults.conftest import StartRelay
from tests.faults.harness import Names, Scenario
from tests.tcp_proxy import FaultProxy

pytestmark = [pytest.mark.faults, pytest.mark.timeout(90)]


async def test_connection_cut_mid_load_loses_nothing_and_recovers(
    amqp_url: str,
    proxy: FaultProxy,
    shared_names: Names,
    relay_on: StartRelay,
    record: Callable[[Report], Report],
) -> None:
    """Cut relay-broker traffic for 3 s: 503 meanwhile, 2xx again after, nothing acked lost."""
    relay = await relay_on(amqp_url, shared_names, via=proxy.url_for(amqp_url))
    scenario = Scenario("1. connection cut 3 s (proxy)", relay.url, shared_names)

    async def fault() -> None:
        proxy.cut()
        await asyncio.sleep(3)
        proxy.restore()

    report = record(await scenario.judge(amqp_url, await scenario.run(fault)))
    report.check()
    assert set(report.refused) == {"503"}, report.refused
    assert report.recovery_seconds is not None
    assert report.max_latency < 3.0


async def test_confirms_never_arriving_answer_503_and_ack_nothing_unconfirmed(
    amqp_url: str,
    proxy: FaultProxy,
    shared_names: Names,
    relay_on: StartRelay,
    record: Callable[[Report], Report],
) -> None:
    """Broker-to-relay bytes held for 3 s: every publish times out into 503, none is acked."""
    timeout = {"RELAY_AMQP_CONFIRM_TIMEOUT": "0.5"}
    relay = await relay_on(amqp_url, shared_names, via=proxy.url_for(amqp_url), env=timeout)
    scenario = Scenario("4. confirms withheld 3 s (proxy)", relay.url, shared_names)

    async def fault() -> None:
        proxy.stall()
        await asyncio.sleep(3)
        proxy.restore()

    report = record(await scenario.judge(amqp_url, await scenario.run(fault)))
    report.check()
    assert set(report.refused) == {"503"}, report.refused
    assert report.refused["503"] >= 100  # about 3 s at 100/s
    assert report.max_latency < 1.5


async def test_nacked_publishes_answer_503_and_ack_nothing_rejected(
    amqp_url: str, shared_names: Names, relay_on: StartRelay, record: Callable[[Report], Report]
) -> None:
    """A full reject-publish quorum queue nacks: 503 until a consumer empties it, none lost."""
    limit = {"x-max-length": 300, "x-overflow": "reject-publish"}
    relay = await relay_on(amqp_url, shared_names, queue_args=limit)
    scenario = Scenario("4. publishes nacked (queue full)", relay.url, shared_names)
    early: list[str] = []
    consuming = asyncio.Event()

    async def consumer() -> None:
        await consuming.wait()
        while consuming.is_set():
            early.extend(await drain(amqp_url, [shared_names.queue]))
            await asyncio.sleep(0.2)

    async def fault() -> None:
        await asyncio.sleep(3.5)  # the queue fills after about 3.3 s, then nacks
        consuming.set()

    draining = asyncio.create_task(consumer())
    sent = await scenario.run(fault)
    consuming.clear()
    await draining
    report = record(await scenario.judge(amqp_url, sent, early))
    report.check()
    assert set(report.refused) == {"503"}, report.refused
    assert report.recovery_seconds is not None
    assert report.delivered == report.accepted  # a nacked message is in no queue
