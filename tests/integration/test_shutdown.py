"""SIGTERM on a real `relay serve` process: refuse new work, finish confirms, lose nothing."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aio_pika.abc import AbstractChannel

from relay.config import TopologySettings, environment
from tests.integration.conftest import bind_all, drain, via
from tests.payloads import BODIES
from tests.support.relay_process import RelayProcess
from tests.tcp_proxy import FaultProxy

pytestmark = pytest.mark.integration


@pytest.fixture
async def relay_process(
    amqp_url: str, proxy: FaultProxy, names: TopologySettings, pipeline: str, tmp_path: Path
) -> AsyncIterator[RelayProcess]:
    env = {
        **environment("topology", names),
        "RELAY_AMQP_PIPELINE": pipeline,
        "RELAY_AMQP_URL": via(amqp_url, proxy),
        "RELAY_AMQP_HEARTBEAT": "0",
        "RELAY_SHUTDOWN_GRACE": "1.0",
        "RELAY_AMQP_CONFIRM_TIMEOUT": "10",
    }
    relay = RelayProcess(env, tmp_path / "relay.log")
    await relay.start()
    yield relay
    relay.kill()


async def test_sigterm_drains_in_flight_confirms_and_refuses_new_callbacks(
    relay_process: RelayProcess,
    proxy: FaultProxy,
    channel: AbstractChannel,
    names: TopologySettings,
) -> None:
    """Publishes waiting for confirms at SIGTERM still get 2xx and are in the queue."""
    base = relay_process.url
    queue = await bind_all(channel, names)
    bodies = [
        BODIES["mo_text"].replace(b"01FC66621VHDBN119Z8PMV1AHY", f"id-{i}".encode())
        for i in range(20)
    ]
    async with aiohttp.ClientSession() as http:
        proxy.stall()  # confirms are held back: every publish is in flight
        pending = [asyncio.create_task(http.post(f"{base}/sms", data=b)) for b in bodies]
        await asyncio.sleep(0.5)
        relay_process.send(signal.SIGTERM)
        await asyncio.sleep(0.3)
        refused = await http.post(f"{base}/sms", data=BODIES["mo_binary"])
        ready = await http.get(f"{base}/readyz")
        proxy.restore()  # confirms flow again
        answers = [r.status for r in await asyncio.gather(*pending)]
    assert (refused.status, ready.status) == (503, 503)
    assert answers == [200] * len(bodies)
    assert await relay_process.wait_exit(15) == 0
    received = sorted(m.body for m in await drain(queue, len(bodies) + 1, timeout=3))
    assert received == sorted(bodies)
