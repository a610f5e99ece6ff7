"""Under a flood of expensive-to-parse bodies, a genuine callback's latency stays bounded
(a real `relay serve` process and broker; traffic only to 127.0.0.1, bounded in time)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from relay.config import TopologySettings, environment
from tests.payloads import BODIES
from tests.support.relay_process import RelayProcess

pytestmark = pytest.mark.integration

# ~1 MiB of arrays nested 1000 deep: valid JSON, once ~100 ms (and ~44 MiB) of orjson's
# each; now over the container limit, kept to its top level in ~10 ms.
NESTED = b'{"type":"mo_text","x":[' + (b"[" * 1000 + b"]" * 1000 + b",") * 520 + b"0]}"
# ~1 MB "ladder" nested 250,000 deep: past orjson's depth, once ~300 ms on the deep path,
# now ~50 ms.
LADDER = b'{"type":"mo_text","x":' + b"[1," * 250_000 + b"1" + b"]" * 250_000 + b"}"
ATTACKERS = 16
SECONDS = 4.0


async def _attack(base: str, until: float, body: bytes) -> None:
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < until:
            async with http.post(f"{base}/sms", data=body) as response:
                await response.read()


async def _genuine(base: str, until: float) -> list[float]:
    latencies = []
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < until:
            started = time.monotonic()
            async with http.post(f"{base}/sms/incoming", data=BODIES["mo_text"]) as response:
                assert response.status == 200
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.05)
    return latencies


@pytest.mark.parametrize("hostile", [NESTED, LADDER], ids=["nested", "ladder"])
async def test_genuine_latency_stays_bounded_under_a_parsing_flood(
    amqp_url: str, names: TopologySettings, hostile: bytes, tmp_path: Path
) -> None:
    """16 connections of 1 MiB nested arrays: a small callback still answers within 0.5 s."""
    env = {"RELAY_AMQP_URL": amqp_url, **environment("topology", names)}
    process = RelayProcess(env, tmp_path / "relay.log")
    base = process.url
    try:
        await process.start()
        until = time.monotonic() + SECONDS
        attackers = [asyncio.ensure_future(_attack(base, until, hostile)) for _ in range(ATTACKERS)]
        await asyncio.sleep(0.5)
        latencies = await _genuine(base, until)
        await asyncio.gather(*attackers)
        assert max(latencies) < 0.5, sorted(latencies)[-5:]
    finally:
        await process.stop()
