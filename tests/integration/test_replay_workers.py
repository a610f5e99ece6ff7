"""`relay serve --workers 2` with the Redis replay store: one signed callback, published once."""

from __future__ import annotations

import asyncio
import base64
import uuid
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel

from relay.config import TopologySettings, environment
from relay.edge.auth import CALLBACK_PATHS
from relay.edge.auth.replay_redis import redis_key
from tests.integration.conftest import bind_all, drain
from tests.security.conftest import MO_TEXT, signed
from tests.support.relay_process import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SECRET = "workers-secret"


def _env(amqp_url: str, redis_url: str, names: TopologySettings) -> dict[str, str]:
    return {
        **environment("topology", names),
        "RELAY_AMQP_URL": amqp_url,
        "RELAY_SECURITY_HMAC_ROUTES": ",".join(CALLBACK_PATHS),
        "RELAY_SECURITY_HMAC_SECRETS": SECRET,
        "RELAY_SECURITY_REPLAY_STORE": redis_url,
    }


async def _post_on_a_new_connection(url: str, headers: dict[str, str]) -> int:
    """One POST on its own connection, so the kernel may hand it to either worker."""
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http,
        http.post(url, data=MO_TEXT, headers=headers) as response,
    ):
        return response.status


async def test_the_same_signed_callback_sent_20_times_to_two_workers_is_published_once(
    amqp_url: str, redis_url: str, channel: AbstractChannel, names: TopologySettings, tmp_path: Path
) -> None:
    """10 at once and 10 one by one, each on its own connection: exactly one message."""
    relay = RelayProcess(
        _env(amqp_url, redis_url, names), tmp_path / "relay.log", args=("--workers", "2")
    )
    headers = signed(SECRET, MO_TEXT, uuid.uuid4().hex)
    url = relay.url + "/sms/incoming"
    try:
        await relay.start()
        await asyncio.sleep(0.5)  # the second worker connects too
        queue = await bind_all(channel, names)  # the relay declared the exchanges
        together = await asyncio.gather(
            *(_post_on_a_new_connection(url, headers) for _ in range(10))
        )
        one_by_one = [await _post_on_a_new_connection(url, headers) for _ in range(10)]
    finally:
        await relay.stop()
        key = redis_key(base64.b64decode(headers["x-sinch-webhook-signature"]))
        async with aioredis.Redis.from_url(redis_url) as client:
            await client.delete(key)
    # A copy arriving while the first is being published is 429 (Sinch retries it).
    assert set(together) <= {200, 429}, together
    assert one_by_one == [200] * 10
    assert len(await drain(queue, 2, timeout=2.0)) == 1
