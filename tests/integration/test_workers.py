"""`relay serve --workers N`: several processes on one port, drained and restarted."""

from __future__ import annotations

import asyncio
import os
import signal

import aiohttp
import pytest
from aio_pika.abc import AbstractChannel

from relay.config import TopologySettings
from tests.integration.conftest import (
    bind_all,
    drain,
    free_port,
    spawn_relay,
    wait_until_serving,
)
from tests.payloads import BODIES

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


async def test_workers_share_the_port_restart_after_a_crash_and_drain_on_sigterm(
    amqp_url: str, channel: AbstractChannel, names: TopologySettings
) -> None:
    """Two workers answer; a SIGKILLed one comes back; SIGTERM stops all with exit 0."""
    port = free_port()
    process = await spawn_relay(port, names, {"RELAY_AMQP_URL": amqp_url}, "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_serving(base)
        await asyncio.sleep(0.5)  # let the second worker finish connecting too
        workers = _children(process.pid)
        assert len(workers) == 2
        queue = await bind_all(channel, names)
        os.kill(workers[0], signal.SIGKILL)
        await asyncio.sleep(3.0)  # the supervisor notices and starts a replacement
        assert len(_children(process.pid)) == 2
        assert workers[0] not in _children(process.pid)
        await wait_until_serving(base)
        async with aiohttp.ClientSession() as http:
            statuses = [
                (await http.post(f"{base}/sms", data=BODIES["mo_text"])).status for _ in range(10)
            ]
        assert statuses == [200] * 10
        assert len(await drain(queue, 10)) == 10
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
