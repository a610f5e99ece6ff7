"""Bodies cannot grow the process without bound: a finite default timeout, one budget for
all bodies held at once, and a client leaving mid-body is an info line, not a 500."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from aiohttp import web
from aiohttp.streams import StreamReader
from structlog.testing import capture_logs

from relay.config import SecuritySettings, Settings
from relay.edge.app import create_app
from relay.edge.auth import handler_args
from tests.security.conftest import MO_TEXT
from tests.support.fakes import FakePublisher
from tests.support.ports import free_port

HEAD = b"POST /sms HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"


async def _server(aiohttp_server: Any, **security: Any) -> Any:
    publisher = FakePublisher()
    settings = Settings(security=SecuritySettings(**security))
    app: web.Application = create_app(settings, publisher)
    return await aiohttp_server(app, **handler_args(settings.security)), publisher


async def _stall(port: int, declared: int) -> asyncio.StreamWriter:
    """A request that declares `declared` body bytes, sends a few and then stalls."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEAD % declared + b'{"type":')
    await writer.drain()
    return writer


def test_body_timeout_is_finite_by_default() -> None:
    """A stalled body no longer holds its connection and buffer forever."""
    assert 0 < SecuritySettings().body_timeout_seconds <= 60


async def test_bodies_over_the_held_budget_get_503_with_retry_after(
    aiohttp_server: Any, aiohttp_client: Any
) -> None:
    """While stalled bodies hold the budget, a new body is 503 (Sinch retries); then 200."""
    server, publisher = await _server(aiohttp_server, max_held_body_bytes=8192)
    stalled = [await _stall(server.port, 4096) for _ in range(2)]
    await asyncio.sleep(0.1)
    client = await aiohttp_client(server)
    refused = await client.post("/sms", data=MO_TEXT)
    assert (refused.status, refused.headers["Retry-After"]) == (503, "5")
    for writer in stalled:
        writer.close()
    await asyncio.sleep(0.2)
    assert (await client.post("/sms", data=MO_TEXT)).status == 200
    assert len(publisher.published) == 1


async def test_client_leaving_mid_body_is_logged_once_at_info(aiohttp_server: Any) -> None:
    """No 500, no traceback at error level: one info line saying the client left."""
    server, publisher = await _server(aiohttp_server)
    with capture_logs() as logs:
        writer = await _stall(server.port, 1000)
        await asyncio.sleep(0.1)
        writer.close()
        await asyncio.sleep(0.3)
    assert [e["log_level"] for e in logs] == ["info"]
    assert (logs[0]["status"], logs[0]["error"]) == (499, "client_disconnected")
    assert publisher.published == []


async def test_a_client_leaving_mid_body_frees_its_body_without_the_collector() -> None:
    """What a departed client sent is freed with its request, not kept in a reference
    cycle until a full garbage collection (which an idle relay may never run). A plain
    `AppRunner`, as `relay serve` runs it: under the `aiohttp_server` fixture the cycle
    did not form, so the test could not fail."""
    settings = Settings()
    runner = web.AppRunner(create_app(settings, FakePublisher()), **handler_args(settings.security))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gc.collect()
    gc.disable()
    try:
        with capture_logs() as logs:
            writer = await _stall(port, 100_000)
            await asyncio.sleep(0.1)
            writer.close()
            async with asyncio.timeout(5):
                while not logs:
                    await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # the request's task ends after its log line
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        kept = [o for o in gc.garbage if isinstance(o, StreamReader | ConnectionResetError)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        await runner.cleanup()
    assert logs[0]["error"] == "client_disconnected"
    assert kept == []
