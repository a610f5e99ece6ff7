"""Against a real RabbitMQ: a consumer re-verifies Sinch's signature with Sinch's own SDK.

The relay runs with HMAC on and the real AmqpPublisher (both pipelines: the batched one
frames headers itself); the consumed message's headers and
body go to `SmsSinchEvent.validate_authentication_header` from the `sinch` package, the
validator Sinch tells its customers to use on the HTTP request itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aiohttp.test_utils import TestClient
from sinch.domains.sms.sinch_events.v1 import SmsSinchEvent

from relay.config import HttpSettings, Secret, SecuritySettings, TopologySettings
from relay.contract.message import SIGNATURE_HEADERS
from relay.edge.auth.authenticator import CALLBACK_PATHS
from relay.edge.auth.signature import sign
from tests.integration.conftest import (
    ClientFactory,
    bind_all,
    drain,
    ready_relay,
    relay_settings,
)
from tests.payloads import BODIES

pytestmark = pytest.mark.integration

SECRET = "reverification-secret"


async def _start(
    aiohttp_client: ClientFactory,
    amqp_url: str,
    names: TopologySettings,
    pipeline: str,
    forward: bool,
) -> TestClient[Any, Any]:
    settings = dataclasses.replace(
        relay_settings(amqp_url, names, pipeline=pipeline),
        http=HttpSettings(forward_signature=forward),
        security=SecuritySettings(hmac_routes=CALLBACK_PATHS, hmac_secrets=(Secret(SECRET),)),
    )
    return await ready_relay(aiohttp_client, settings)


async def _consume_signed(
    client: TestClient[Any, Any], channel: AbstractChannel, names: TopologySettings, type_: str
) -> AbstractIncomingMessage:
    queue = await bind_all(channel, names)
    response = await client.post("/sms", data=BODIES[type_], headers=sign(SECRET, BODIES[type_]))
    assert response.status == 200
    (message,) = await drain(queue, 1)
    return message


@pytest.mark.parametrize("type_", ["mo_text", "recipient_delivery_report_sms"])
async def test_sinchs_sdk_accepts_the_consumed_message(
    aiohttp_client: ClientFactory,
    amqp_url: str,
    channel: AbstractChannel,
    names: TopologySettings,
    pipeline: str,
    type_: str,
) -> None:
    """With forward_signature, the consumed headers and body pass Sinch's own validator."""
    client = await _start(aiohttp_client, amqp_url, names, pipeline, forward=True)
    message = await _consume_signed(client, channel, names, type_)
    headers = {name: str(value) for name, value in message.headers.items()}
    assert set(SIGNATURE_HEADERS) <= headers.keys()
    assert SmsSinchEvent(SECRET).validate_authentication_header(headers, message.body) is True
    assert (
        SmsSinchEvent("another-secret").validate_authentication_header(headers, message.body)
        is False
    )


async def test_without_the_setting_the_consumer_cannot_reverify(
    aiohttp_client: ClientFactory,
    amqp_url: str,
    channel: AbstractChannel,
    names: TopologySettings,
    pipeline: str,
) -> None:
    """By default the signature headers are absent, so the SDK validator says False."""
    client = await _start(aiohttp_client, amqp_url, names, pipeline, forward=False)
    message = await _consume_signed(client, channel, names, "mo_text")
    headers = {name: str(value) for name, value in message.headers.items()}
    assert not any(name.startswith("x-sinch-webhook-signature") for name in headers)
    assert SmsSinchEvent(SECRET).validate_authentication_header(headers, message.body) is False
