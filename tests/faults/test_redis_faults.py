"""The shared replay store (Redis) cut mid-load: 503 meanwhile, nothing acknowledged lost.

The relay signs nothing itself: every callback carries a Sinch HMAC signature, so each one
is claimed in Redis, reached through a proxy the test cuts. While Redis is gone the relay
cannot tell a replay from a first sighting, so it answers 503 + Retry-After (never 2xx,
never 4xx), /readyz names `replay_store`, and it recovers without a restart.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable, Mapping

import aiohttp
import pytest
import redis.asyncio as aioredis

from relay.edge.auth import CALLBACK_PATHS
from relay.edge.auth.replay_redis import redis_key
from relay.edge.auth.signature import SIGNATURE, sign
from tests.faults.checker import Report
from tests.faults.conftest import StartRelay
from tests.faults.harness import Names, Scenario
from tests.tcp_proxy import FaultProxy, proxy_to

pytestmark = [pytest.mark.faults, pytest.mark.timeout(90)]

SECRET = "faults-hmac-secret"


@pytest.fixture
async def redis_proxy(redis_url: str) -> AsyncIterator[FaultProxy]:
    """A proxy to the shared Redis (which is never stopped)."""
    async with proxy_to(redis_url, 6379) as proxy:
        yield proxy


@pytest.fixture
async def signer(redis_url: str) -> AsyncIterator[Callable[[bytes], Mapping[str, str]]]:
    """Signs as Sinch does and remembers each signature, to delete its key afterwards."""
    made: list[str] = []

    def signed(body: bytes) -> Mapping[str, str]:
        headers = sign(SECRET, body)
        made.append(headers[SIGNATURE])
        return headers

    yield signed
    keys = [redis_key(base64.b64decode(s)) for s in made]
    async with aioredis.Redis.from_url(redis_url) as client:
        for start in range(0, len(keys), 500):
            await client.delete(*keys[start : start + 500])


async def _readiness(base_url: str) -> tuple[int, dict[str, bool]]:
    async with aiohttp.ClientSession() as http, http.get(base_url + "/readyz") as response:
        return response.status, (await response.json())["checks"]


async def test_redis_cut_mid_load_is_503_loses_nothing_and_recovers(
    amqp_url: str,
    redis_url: str,
    redis_proxy: FaultProxy,
    signer: Callable[[bytes], Mapping[str, str]],
    shared_names: Names,
    relay_on: StartRelay,
    record: Callable[[Report], Report],
) -> None:
    """Cut relay-Redis for 3 s: 503 + not ready meanwhile, 2xx after, every 2xx once."""
    env = {
        "RELAY_SECURITY_HMAC_ROUTES": ",".join(CALLBACK_PATHS),
        "RELAY_SECURITY_HMAC_SECRETS": SECRET,
        "RELAY_SECURITY_REPLAY_STORE": redis_proxy.url_for(redis_url),
    }
    relay = await relay_on(amqp_url, shared_names, env=env)
    scenario = Scenario("R. replay store (Redis) cut 3 s", relay.url, shared_names, sign=signer)
    during: list[tuple[int, dict[str, bool]]] = []

    async def fault() -> None:
        redis_proxy.cut()
        await asyncio.sleep(1.5)
        during.append(await _readiness(relay.url))
        await asyncio.sleep(1.5)
        redis_proxy.restore()

    report = record(await scenario.judge(amqp_url, await scenario.run(fault)))
    report.check()
    assert report.duplicated == 0
    assert set(report.refused) == {"503"}, report.refused
    assert report.refused["503"] >= 100  # about 3 s at 100/s
    assert report.recovery_seconds is not None
    [(status, checks)] = during
    assert status == 503
    assert checks["replay_store"] is False
    assert checks["connected"] is True  # the broker was fine: readiness says why
    assert await _readiness(relay.url) == (200, {**checks, "replay_store": True})
