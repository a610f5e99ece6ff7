"""Scenarios 2 and 3: a broker node the suite started is stopped and restarted, or alarmed.

Never the machine's shared broker: `rabbit_node` is the suite's own node on its own ports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.faults import rabbit
from tests.faults.checker import Report
from tests.faults.conftest import StartRelay
from tests.faults.harness import Names, Scenario

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

CONFIRM_TIMEOUT = 2.0


async def test_broker_node_stopped_and_restarted_mid_load_loses_nothing(
    rabbit_node: rabbit.RabbitNode,
    names: Names,
    relay_on: StartRelay,
    record: Callable[[Report], Report],
) -> None:
    """`rabbitmqctl stop` mid-load, start again: 503 while down, reconnects by itself."""
    relay = await relay_on(rabbit_node.url, names)
    scenario = Scenario("2. broker node stopped + restarted", relay.url, names)

    async def fault() -> None:
        await asyncio.to_thread(rabbit_node.stop)
        await asyncio.sleep(1)
        await asyncio.to_thread(rabbit.start_nodes, [rabbit_node])

    report = record(await scenario.judge(rabbit_node.url, await scenario.run(fault)))
    report.check()
    assert set(report.refused) == {"503"}, report.refused
    assert report.recovery_seconds is not None
    assert report.max_latency < CONFIRM_TIMEOUT + 1


ALARMS = {
    "memory": (
        ("set_vm_memory_high_watermark", "0.000001"),
        ("set_vm_memory_high_watermark", "0.4"),
    ),
    "disk": (("set_disk_free_limit", "1000000GB"), ("set_disk_free_limit", "50MB")),
}


@pytest.mark.parametrize("alarm", sorted(ALARMS))
async def test_resource_alarm_answers_429_without_hanging_or_losing(
    alarm: str,
    rabbit_node: rabbit.RabbitNode,
    names: Names,
    relay_on: StartRelay,
    record: Callable[[Report], Report],
) -> None:
    """Alarm raised for 3 s: 429 while blocked (503 for publishes caught by it), no hang."""
    relay = await relay_on(rabbit_node.url, names)
    scenario = Scenario(f"3. {alarm} alarm 3 s", relay.url, names)
    raise_it, clear_it = ALARMS[alarm]

    async def fault() -> None:
        await asyncio.to_thread(rabbit_node.ctl, *raise_it)
        try:
            await asyncio.sleep(3)
        finally:
            await asyncio.to_thread(rabbit_node.ctl, *clear_it)

    report = record(await scenario.judge(rabbit_node.url, await scenario.run(fault)))
    report.check()
    assert report.refused.get("429", 0) >= 100, report.refused
    assert set(report.refused) <= {"429", "503"}, report.refused
    assert report.max_latency < CONFIRM_TIMEOUT + 1
