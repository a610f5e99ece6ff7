"""Scenario 5: the relay process itself dies (SIGKILL) or is told to stop (SIGTERM) mid-load.

SIGKILL: whatever it answered 2xx before dying is queued; a new process on the same port
serves again. SIGTERM: with confirms slowed to 1 s by the proxy, many publishes are in
flight when the signal lands; each of them must still be answered 2xx (drain) and queued.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import pytest

from tests.faults.checker import Report
from tests.faults.conftest import StartRelay
from tests.faults.harness import Names, Scenario
from tests.support.relay_process import RelayProcess
from tests.tcp_proxy import FaultProxy

pytestmark = [pytest.mark.faults, pytest.mark.timeout(90)]

MakeRelay = Callable[..., RelayProcess]


async def test_relay_sigkilled_mid_load_then_restarted_loses_nothing_acked(
    amqp_url: str,
    shared_names: Names,
    relays: MakeRelay,
    relay_on: StartRelay,
    record: Callable[[Report], Report],
) -> None:
    """SIGKILL the relay, start a new one 1 s later: every 2xx answered before is queued."""
    relay = await relay_on(amqp_url, shared_names)
    scenario = Scenario("5. relay SIGKILL + restart", relay.url, shared_names)

    async def fault() -> None:
        relay.send(signal.SIGKILL)
        await relay.wait_exit(5)
        await asyncio.sleep(1)
        await relays(relay.settings_env, port=relay.port).start()

    report = record(await scenario.judge(amqp_url, await scenario.run(fault)))
    report.check()
    assert any(kind.startswith("error:") for kind in report.refused), report.refused
    # connection errors while no process listens; 503 from the new one until it connects
    assert all(k.startswith("error:") or k == "503" for k in report.refused), report.refused


async def test_relay_sigtermed_mid_load_drains_in_flight_publishes(
    amqp_url: str,
    proxy: FaultProxy,
    shared_names: Names,
    relays: MakeRelay,
    relay_on: StartRelay,
    record: Callable[[Report], Report],
) -> None:
    """SIGTERM with ~100 publishes awaiting slow confirms: all answered 2xx, all queued."""
    relay = await relay_on(amqp_url, shared_names, via=proxy.url_for(amqp_url))
    proxy.delay = 1.0  # every confirm takes a second: the relay always has work in flight
    scenario = Scenario("5. relay SIGTERM (drain) + restart", relay.url, shared_names)
    signalled = 0.0

    async def fault() -> None:
        nonlocal signalled
        signalled = time.monotonic()
        relay.send(signal.SIGTERM)
        assert await relay.wait_exit(15) == 0
        proxy.delay = 0.0
        await relays(relay.settings_env, port=relay.port).start()

    sent = await scenario.run(fault)
    report = record(await scenario.judge(amqp_url, sent))
    report.check()
    in_flight = [s for s in sent if s.started < signalled - 0.2 and s.ended > signalled]
    assert len(in_flight) >= 50, len(in_flight)
    assert all(s.accepted for s in in_flight), {s.status or s.error for s in in_flight}
