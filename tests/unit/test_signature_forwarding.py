"""`http.forward_signature`: Sinch's signature headers reach the broker only when asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from relay.config import HttpSettings, Secret, SecuritySettings, Settings, load_settings
from relay.contract.message import SIGNATURE_HEADERS
from relay.edge.app import create_app
from relay.edge.auth.authenticator import CALLBACK_PATHS
from relay.edge.auth.signature import sign
from tests.payloads import BODIES
from tests.support.fakes import FakePublisher, headers_of

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
SECRET = "forwarding-secret"


def _settings(forward_signature: bool) -> Settings:
    return Settings(
        http=HttpSettings(forward_signature=forward_signature),
        security=SecuritySettings(hmac_routes=CALLBACK_PATHS, hmac_secrets=(Secret(SECRET),)),
    )


async def _relay_signed(aiohttp_client: ClientFactory, forward_signature: bool) -> tuple[Any, ...]:
    publisher = FakePublisher()
    client = await aiohttp_client(create_app(_settings(forward_signature), publisher))
    body = BODIES["mo_text"]
    given = sign(SECRET, body)
    response = await client.post("/sms", data=body, headers=given)
    assert response.status == 200
    (message,) = publisher.published
    return given, headers_of(message), message.body


async def test_forwarded_signature_headers_keep_sinchs_names_and_values(
    aiohttp_client: ClientFactory,
) -> None:
    """With the setting on, the four headers travel unprefixed, exactly as Sinch sent them."""
    given, headers, body = await _relay_signed(aiohttp_client, forward_signature=True)
    assert {name: headers[name] for name in SIGNATURE_HEADERS} == given
    assert body == BODIES["mo_text"]


async def test_signature_headers_stay_out_by_default(aiohttp_client: ClientFactory) -> None:
    """With the setting off, no signature header (prefixed or not) reaches the broker."""
    _, headers, _ = await _relay_signed(aiohttp_client, forward_signature=False)
    assert not any("signature" in name for name in headers)


def test_forward_signature_is_off_unless_set() -> None:
    """The default is off; `RELAY_HTTP_FORWARD_SIGNATURE=true` turns it on."""
    assert load_settings(None, {}).http.forward_signature is False
    environ = {"RELAY_HTTP_FORWARD_SIGNATURE": "true"}
    assert load_settings(None, environ).http.forward_signature is True


@pytest.mark.parametrize("name", SIGNATURE_HEADERS)
def test_the_allowlist_still_refuses_signature_headers(name: str) -> None:
    """`http.forward_headers` keeps refusing them and names the setting that forwards them."""
    with pytest.raises(ValueError, match=r"http\.forward_signature"):
        HttpSettings(forward_headers=(name,), forward_signature=True)
