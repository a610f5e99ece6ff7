"""The relay under broker trouble: 503 while it lasts, recovery without a restart."""

from __future__ import annotations

import asyncio

import pytest
from aio_pika.abc import AbstractChannel

from relay.config import TopologySettings
from tests.integration.conftest import RelayFactory, bind_all, drain, via, wait_until_ready
from tests.payloads import BODIES
from tests.tcp_proxy import FaultProxy

pytestmark = pytest.mark.integration


async def test_broker_down_gives_503_and_the_relay_recovers_by_itself(
    start_relay: RelayFactory,
    channel: AbstractChannel,
    names: TopologySettings,
    proxy: FaultProxy,
    amqp_url: str,
) -> None:
    """Cut the connection: 503 with Retry-After and not ready; restore: 200, same process."""
    client = await start_relay(via(amqp_url, proxy))
    queue = await bind_all(channel, names)
    assert (await client.post("/sms", data=BODIES["mo_text"])).status == 200
    proxy.cut()
    await asyncio.sleep(0.3)
    down = await client.post("/sms", data=BODIES["mo_binary"])
    assert (down.status, down.headers["Retry-After"]) == (503, "5")
    assert (await client.get("/readyz")).status == 503
    proxy.restore()
    await wait_until_ready(client)
    assert (await client.post("/sms", data=BODIES["mo_media"])).status == 200
    bodies = [m.body for m in await drain(queue, 2)]
    assert bodies == [BODIES["mo_text"], BODIES["mo_media"]]


async def test_the_relay_starts_and_serves_503_while_the_broker_is_unreachable(
    start_relay: RelayFactory, proxy: FaultProxy, amqp_url: str
) -> None:
    """Live but not ready; once the broker appears, it connects without a restart."""
    url = via(amqp_url, proxy)
    proxy.cut()
    client = await start_relay(url, wait_ready=False)
    await asyncio.sleep(0.3)
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 503
    assert (await client.post("/sms", data=BODIES["mo_text"])).status == 503
    proxy.restore()
    await wait_until_ready(client)
    assert (await client.post("/sms", data=BODIES["mo_text"])).status == 200


async def test_no_confirm_within_the_timeout_is_a_503(
    start_relay: RelayFactory, proxy: FaultProxy, amqp_url: str
) -> None:
    """A broker that takes the publish but never confirms it costs a retry, not a callback."""
    client = await start_relay(via(amqp_url, proxy), confirm_timeout=0.3, heartbeat=0)
    proxy.stall()
    response = await client.post("/sms", data=BODIES["mo_text"])
    assert response.status == 503
    assert (await response.json())["error"] == "confirm_timeout"


async def test_a_publish_awaiting_its_confirm_fails_at_once_when_the_connection_drops(
    start_relay: RelayFactory, proxy: FaultProxy, amqp_url: str
) -> None:
    """The waiter is failed by the closing channel, not left to the confirm timeout."""
    client = await start_relay(via(amqp_url, proxy), confirm_timeout=30, heartbeat=0)
    proxy.stall()
    pending = asyncio.create_task(client.post("/sms", data=BODIES["mo_text"]))
    await asyncio.sleep(0.3)
    assert not pending.done()  # published, its confirm withheld by the proxy
    proxy.cut()
    response = await asyncio.wait_for(pending, timeout=5)
    assert response.status == 503
    assert (await response.json())["error"] != "confirm_timeout"


async def test_too_many_publishes_in_flight_is_a_429(
    start_relay: RelayFactory, proxy: FaultProxy, amqp_url: str
) -> None:
    """Above max_in_flight the relay pushes back with 429, which Sinch retries more slowly."""
    client = await start_relay(
        via(amqp_url, proxy), max_in_flight=2, confirm_timeout=2.0, heartbeat=0
    )
    proxy.stall()
    stuck = [asyncio.create_task(client.post("/sms", data=BODIES["mo_text"])) for _ in range(2)]
    await asyncio.sleep(0.3)
    response = await client.post("/sms", data=BODIES["mo_text"])
    assert response.status == 429
    assert (await response.json())["error"] == "too_many_in_flight"
    assert [r.status for r in await asyncio.gather(*stuck)] == [503, 503]
