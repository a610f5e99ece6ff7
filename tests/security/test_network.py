"""Network limits on the running app: source allowlist, trusted proxies, body and header
limits, and the timeouts that stop slow clients (raw sockets to 127.0.0.1)."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from relay.config import SecuritySettings, Settings
from relay.edge.app import create_app
from relay.edge.auth import handler_args
from tests.security.conftest import MO_TEXT, VECTOR_BODY, RelayFactory
from tests.support.fakes import FakePublisher

ROUTE = "/sms/incoming"


async def test_source_outside_allowlist_is_403(relay: RelayFactory) -> None:
    """A peer outside allow_cidrs is refused before its body is read."""
    client, publisher = await relay(allow_cidrs=("10.0.0.0/8",))
    response = await client.post(ROUTE, data=MO_TEXT)
    assert response.status == 403
    assert (await response.json())["error"] == "forbidden"
    assert publisher.published == []


async def test_source_inside_allowlist_passes(relay: RelayFactory) -> None:
    """The loopback peer is let through when its network is listed."""
    client, publisher = await relay(allow_cidrs=("127.0.0.0/8", "::1/128"))
    assert (await client.post(ROUTE, data=MO_TEXT)).status == 200
    assert len(publisher.published) == 1


async def test_forwarded_for_is_ignored_from_untrusted_peers(relay: RelayFactory) -> None:
    """Without trusted_proxies, a spoofed X-Forwarded-For cannot buy a way in."""
    client, _ = await relay(allow_cidrs=("203.0.113.0/24",))
    headers = {"X-Forwarded-For": "203.0.113.9"}
    assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 403


async def test_forwarded_for_is_believed_from_a_trusted_proxy(relay: RelayFactory) -> None:
    """Behind a trusted proxy, the right-most untrusted hop is the client."""
    client, _ = await relay(allow_cidrs=("203.0.113.0/24",), trusted_proxies=("127.0.0.1/32",))
    ok = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    spoofed = {"X-Forwarded-For": "203.0.113.9, 198.51.100.1"}
    assert (await client.post(ROUTE, data=MO_TEXT, headers=ok)).status == 200
    assert (await client.post(ROUTE, data=MO_TEXT, headers=spoofed)).status == 403


async def test_body_limits_are_per_channel(relay: RelayFactory) -> None:
    """The inbound URL enforces its own limit; the delivery-report URL keeps the default."""
    client, publisher = await relay(max_body_bytes_inbound=200)
    padded = MO_TEXT[:-1] + b',"pad":"' + b"x" * 200 + b'"}'
    assert (await client.post(ROUTE, data=padded)).status == 413
    assert (await client.post(ROUTE, data=MO_TEXT)).status == 200
    assert (await client.post("/sms/delivery-report", data=VECTOR_BODY + b" " * 300)).status == 200
    assert len(publisher.published) == 2


async def test_chunked_body_over_the_channel_limit_is_413(relay: RelayFactory) -> None:
    """A body without Content-Length is measured once read."""
    client, publisher = await relay(max_body_bytes_inbound=100)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b" " * 50

    assert (await client.post(ROUTE, data=chunks())).status == 413
    assert publisher.published == []


async def test_channel_limit_above_http_default_raises_the_app_cap(relay: RelayFactory) -> None:
    """A delivery-report limit above http.max_body_bytes is honoured (big batches)."""
    client, publisher = await relay(max_body_bytes_delivery_reports=3 * 1024 * 1024)
    big = VECTOR_BODY[:-1] + b',"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert (await client.post("/sms/delivery-report", data=io.BytesIO(big))).status == 200
    assert (await client.post(ROUTE, data=io.BytesIO(big))).status == 413
    assert len(publisher.published) == 1


async def _server(aiohttp_server: Any, **security: Any) -> Any:
    publisher = FakePublisher()
    settings = Settings(security=SecuritySettings(**security))
    app: web.Application = create_app(settings, publisher)
    server = await aiohttp_server(app, **handler_args(settings.security))
    return server, publisher


async def _raw_request(port: int, head: bytes, body: bytes = b"") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), 5)
    writer.close()
    return answer


async def test_too_many_headers_are_refused(aiohttp_server: Any) -> None:
    """More headers than max_header_count: a 4xx from the parser, nothing published."""
    server, publisher = await _server(aiohttp_server, max_header_count=8)
    extra = b"".join(b"X-H%d: v\r\n" % i for i in range(20))
    head = b"POST /sms HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % len(MO_TEXT)
    answer = await _raw_request(server.port, head + extra + b"\r\n", MO_TEXT)
    assert answer.split(b" ", 2)[1] in (b"400", b"431"), answer[:80]
    assert publisher.published == []


async def test_oversized_header_is_refused(aiohttp_server: Any) -> None:
    """A header longer than max_header_bytes: a 4xx from the parser, nothing published."""
    server, publisher = await _server(aiohttp_server, max_header_bytes=256)
    head = b"POST /sms HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nContent-Length: %d\r\n\r\n" % (
        b"a" * 1000,
        len(MO_TEXT),
    )
    answer = await _raw_request(server.port, head, MO_TEXT)
    assert answer.split(b" ", 2)[1] in (b"400", b"431"), answer[:80]
    assert publisher.published == []


async def test_slow_loris_headers_are_cut_off(aiohttp_server: Any) -> None:
    """A client trickling header lines is disconnected after idle_timeout_seconds."""
    server, _ = await _server(aiohttp_server, idle_timeout_seconds=1.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /sms HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    closed = False
    for i in range(40):  # bounded: at most ~8 s of trickling
        await asyncio.sleep(0.2)
        if reader.at_eof() or writer.is_closing():
            closed = True
            break
        try:
            writer.write(b"X-Slow-%d: 1\r\n" % i)
            await writer.drain()
            await asyncio.wait_for(reader.read(1), 0.01)
            closed = reader.at_eof()
        except (TimeoutError, ConnectionError):
            closed = closed or reader.at_eof()
        if closed:
            break
    writer.close()
    assert closed
    assert time.monotonic() - started < 4


async def test_slow_body_gets_503_after_body_timeout(aiohttp_server: Any) -> None:
    """A body that stalls is answered 503 (Sinch would retry), never 4xx."""
    server, publisher = await _server(aiohttp_server, body_timeout_seconds=0.3)
    head = b"POST /sms HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n"
    answer = await _raw_request(server.port, head, b'{"type":')
    assert answer.startswith(b"HTTP/1.1 503")
    assert publisher.published == []


async def test_forwarded_for_forms_real_proxies_write_are_accepted(relay: RelayFactory) -> None:
    """An address with a port, a bracketed IPv6 with a port, an IPv4-mapped IPv6: all the
    client they name, not a 403 for a genuine callback."""
    client, publisher = await relay(
        allow_cidrs=("192.0.2.0/24", "2001:db8::/32"), trusted_proxies=("127.0.0.1/32",)
    )
    forms = ("192.0.2.7:4711", "::ffff:192.0.2.7", "[2001:db8::7]:4711", "[2001:db8::7]")
    for form in forms:
        response = await client.post(ROUTE, data=MO_TEXT, headers={"X-Forwarded-For": form})
        assert response.status == 200, form
    assert len(publisher.published) == len(forms)
    spoofed = {"X-Forwarded-For": "198.51.100.1:4711"}
    assert (await client.post(ROUTE, data=MO_TEXT, headers=spoofed)).status == 403
