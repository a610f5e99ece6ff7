"""Header values with obs-text bytes (0x80-0xFF), legal in HTTP, never make a callback
unpublishable: the message reaches the broker, the byte kept as `\\xNN` text."""

from __future__ import annotations

import asyncio

import pytest
from aio_pika.abc import AbstractChannel

from relay.config import TopologySettings
from tests.integration.conftest import RelayFactory, bind_all, drain
from tests.payloads import BODIES

pytestmark = pytest.mark.integration


async def raw_post(port: int, path: str, headers: bytes, body: bytes) -> bytes:
    """One HTTP/1.1 POST written byte for byte (clients refuse to send obs-text)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST %s HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n" % path.encode()
    head += headers + b"Content-Length: %d\r\n\r\n" % len(body)
    writer.write(head + body)
    answer = await reader.read()
    writer.close()
    return answer


async def test_obs_text_in_forwarded_and_trace_headers_is_published(
    start_relay: RelayFactory, channel: AbstractChannel, names: TopologySettings
) -> None:
    """User-Agent, X-Request-Id and tracestate with a 0xE9/0xFF byte: 200, held, encodable."""
    client = await start_relay()
    queue = await bind_all(channel, names)
    headers = (
        b"User-Agent: Sinch\xe9/1\r\n"
        b"X-Request-Id: id-\xff\r\n"
        b"traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
        b"tracestate: vendor=\xff\r\n"
    )
    answer = await raw_post(client.port or 0, "/sms", headers, BODIES["mo_text"])
    assert answer.startswith(b"HTTP/1.1 200"), answer
    (message,) = await drain(queue, 1)
    assert message.headers["http-user-agent"] == "Sinch\\xe9/1"
    assert message.headers["http-x-request-id"] == "id-\\xff"
    assert message.headers["tracestate"] == "vendor=\\xff"
