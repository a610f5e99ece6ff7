"""The edge side of the quarantine, broker-free: the answer never changes, bounds hold."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from pamqp.common import FieldTable

from relay.config import QuarantineSettings, Secret, SecuritySettings, Settings
from relay.contract import message
from relay.edge.app import create_app
from relay.edge.auth import CALLBACK_PATHS
from relay.edge.quarantine import MAX_BUSY
from tests.security.conftest import MO_TEXT, signed
from tests.support.fakes import FakePublisher

ROUTE = "/sms/incoming"
HMAC = SecuritySettings(hmac_routes=CALLBACK_PATHS, hmac_secrets=(Secret("right"),))


@dataclasses.dataclass
class Sink:
    """Records what it is given; `fail` raises instead; `stall` never returns."""

    held: list[tuple[bytes, FieldTable]] = dataclasses.field(default_factory=list)
    fail: bool = False
    stall: bool = False

    async def publish(self, body: bytes, headers: FieldTable) -> None:
        if self.stall:
            await asyncio.Event().wait()
        if self.fail:
            raise ConnectionError("broker gone")
        self.held.append((body, headers))


async def _client(aiohttp_client: Any, sink: Sink, **quarantine: Any) -> TestClient[Any, Any]:
    settings = Settings(security=HMAC, quarantine=QuarantineSettings(**quarantine))
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(settings, FakePublisher(), quarantine=sink)
    )
    return client


async def _settle() -> None:
    for _ in range(5):  # the publish runs after the answer, as a task of its own
        await asyncio.sleep(0)


async def test_a_refused_callback_is_still_401_and_held_with_its_reason(
    aiohttp_client: Any,
) -> None:
    """Forged: 401 as before; the sink gets the body, the route, the reason, the nonce."""
    sink = Sink()
    client = await _client(aiohttp_client, sink)
    headers = {**signed("forged", MO_TEXT, "n-1"), "Cookie": "session=secret"}
    response = await client.post(ROUTE, data=MO_TEXT, headers=headers)
    await _settle()
    assert response.status == 401
    [(body, held)] = sink.held
    assert body == MO_TEXT
    assert held[message.QUARANTINE_REASON] == "bad_signature"
    assert held[message.RELAY_PATH] == ROUTE
    kept = held[message.QUARANTINE_HEADERS]
    assert isinstance(kept, dict)
    assert kept[message.NONCE] == "n-1"
    assert "cookie" not in kept
    metrics = await (await client.get("/metrics")).text()
    assert 'relay_quarantined_total{reason="bad_signature",route="/sms/incoming"} 1.0' in metrics


async def test_a_failing_quarantine_never_changes_the_answer(aiohttp_client: Any) -> None:
    """Sink down: still 401, counted as publish_failed; a genuine callback still 200."""
    client = await _client(aiohttp_client, Sink(fail=True))
    forged = await client.post(ROUTE, data=MO_TEXT, headers=signed("forged", MO_TEXT, "n-2"))
    await _settle()
    genuine = await client.post(ROUTE, data=MO_TEXT, headers=signed("right", MO_TEXT, "n-3"))
    metrics = await (await client.get("/metrics")).text()
    assert (forged.status, genuine.status) == (401, 200)
    assert 'relay_quarantine_dropped_total{reason="publish_failed"} 1.0' in metrics


async def test_beyond_its_bound_a_refusal_is_answered_and_not_kept(aiohttp_client: Any) -> None:
    """With MAX_BUSY publishes stalled, the next refusal is 401 at once and counted busy."""
    client = await _client(aiohttp_client, Sink(stall=True))
    for n in range(MAX_BUSY + 1):
        headers = signed("forged", MO_TEXT, f"b-{n}")
        assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 401
    metrics = await (await client.get("/metrics")).text()
    assert 'relay_quarantine_dropped_total{reason="busy"} 1.0' in metrics


async def test_quarantine_off_keeps_nothing(aiohttp_client: Any) -> None:
    """quarantine.enabled=false: refused and forgotten, as before."""
    sink = Sink()
    client = await _client(aiohttp_client, sink, enabled=False)
    response = await client.post(ROUTE, data=MO_TEXT, headers=signed("forged", MO_TEXT, "n-4"))
    await _settle()
    assert response.status == 401
    assert sink.held == []


async def test_a_refused_body_that_stalls_is_still_401_and_not_kept(aiohttp_server: Any) -> None:
    """Refused before its body (Basic), whose body never completes: the quarantine's read
    gives up within its bound and the answer stays 401, counted as unreadable."""
    sink = Sink()
    basic = SecuritySettings(basic_routes=CALLBACK_PATHS, basic_credentials=(Secret("a:b"),))
    app = create_app(Settings(security=basic), FakePublisher(), quarantine=sink)
    server = await aiohttp_server(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = b"POST /sms/incoming HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n"
    writer.write(head + b'{"type":')
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    async with aiohttp.ClientSession() as session:
        metrics = await (await session.get(server.make_url("/metrics"))).text()
    assert status_line.split()[1] == b"401"
    assert sink.held == []
    assert 'relay_quarantine_dropped_total{reason="unreadable"} 1.0' in metrics
