"""A second `relay serve` on a busy port fails loudly instead of sharing the traffic."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from relay.config import TopologySettings, environment
from tests.support.relay_process import RelayProcess

pytestmark = pytest.mark.integration


async def test_second_relay_on_a_busy_port_exits_2_with_one_line(
    amqp_url: str, names: TopologySettings, tmp_path: Path
) -> None:
    """Without --workers, SO_REUSEPORT is off: the stray instance gets no share of traffic."""
    env = {"RELAY_AMQP_URL": amqp_url, **environment("topology", names)}
    first = RelayProcess(env, tmp_path / "first.log")
    port = first.port
    try:
        await first.start()
        second = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "relay", "serve", "--host", "127.0.0.1", "--port", str(port)),
            env={**os.environ, **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(second.communicate(), 20)
        assert second.returncode == 2
        lines = [
            line for line in err.decode().splitlines() if "Traceback" in line or "in use" in line
        ]
        assert lines == [
            f"relay: cannot listen: 127.0.0.1:{port} is already in use (another relay?)"
        ]
    finally:
        await first.stop()
