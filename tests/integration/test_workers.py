"""`relay serve --workers N`: several processes on one port, drained and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest
from aio_pika.abc import AbstractChannel

from relay.config import TopologySettings, environment
from tests.integration.conftest import bind_all, drain
from tests.payloads import BODIES
from tests.support.relay_process import RelayProcess

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


async def test_workers_share_the_port_restart_after_a_crash_and_drain_on_sigterm(
    amqp_url: str, channel: AbstractChannel, names: TopologySettings, tmp_path: Path
) -> None:
    """Two workers answer; a SIGKILLed one comes back; SIGTERM stops all with exit 0."""
    env = {**environment("topology", names), "RELAY_AMQP_URL": amqp_url}
    relay = RelayProcess(env, tmp_path / "relay.log", args=("--workers", "2"))
    base = relay.url
    try:
        await relay.start()
        await asyncio.sleep(0.5)  # let the second worker finish connecting too
        workers = _children(relay.pid)
        assert len(workers) == 2
        queue = await bind_all(channel, names)
        os.kill(workers[0], signal.SIGKILL)
        await asyncio.sleep(3.0)  # the supervisor notices and starts a replacement
        assert len(_children(relay.pid)) == 2
        assert workers[0] not in _children(relay.pid)
        await relay.wait_ready()
        async with aiohttp.ClientSession() as http:
            statuses = [
                (await http.post(f"{base}/sms", data=BODIES["mo_text"])).status for _ in range(10)
            ]
        assert statuses == [200] * 10
        assert len(await drain(queue, 10)) == 10
        relay.send(signal.SIGTERM)
        assert await relay.wait_exit(20) == 0
    finally:
        relay.kill()
