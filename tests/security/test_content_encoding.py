"""Content-Encoding: refused (415) before anything is read or decoded, so the published body
is always the wire bytes HMAC was checked over; a broken encoding is never a 500."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from aiohttp import web

from relay.config import SecuritySettings, Settings
from relay.edge.app import create_app
from relay.edge.auth import handler_args
from tests.security.conftest import MO_TEXT
from tests.support.fakes import FakePublisher


async def _client(aiohttp_client: Any) -> tuple[Any, FakePublisher]:
    publisher = FakePublisher()
    settings = Settings(security=SecuritySettings())
    app: web.Application = create_app(settings, publisher)
    return await aiohttp_client(app, server_kwargs=handler_args(settings.security)), publisher


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(MO_TEXT)),
        ("gzip", b"\x1f\x8b\x08\x00not really gzip"),
        ("deflate", b"\x78\x9cgarbage"),
    ],
)
async def test_encoded_bodies_are_refused_clearly(
    aiohttp_client: Any, encoding: str, body: bytes
) -> None:
    """415 with the reason in the body, nothing published, whether or not it decodes."""
    client, publisher = await _client(aiohttp_client)
    response = await client.post("/sms", data=body, headers={"Content-Encoding": encoding})
    assert response.status == 415
    assert (await response.json())["error"] == "content_encoding_not_accepted"
    assert publisher.published == []


async def test_identity_encoding_is_relayed_byte_for_byte(aiohttp_client: Any) -> None:
    """`Content-Encoding: identity` is the plain body: published as sent."""
    client, publisher = await _client(aiohttp_client)
    response = await client.post("/sms", data=MO_TEXT, headers={"Content-Encoding": "identity"})
    assert response.status == 200
    assert publisher.published[0].body == MO_TEXT
