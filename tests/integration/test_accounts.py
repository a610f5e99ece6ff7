"""Against a real RabbitMQ: config/examples/two-accounts.toml, and the single-account paths.

The shipped example, loaded as `relay serve --config` loads it (secrets from
RELAY_ACCOUNT_EU_HMAC_SECRETS and RELAY_ACCOUNT_US_HMAC_SECRETS), with the real
AmqpPublisher under both pipelines: a secret of one account is refused on the other's
paths, and every message that reaches the broker says which account it came from.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from aio_pika.abc import AbstractChannel
from aiohttp.test_utils import TestClient

from relay.config import Settings, TopologySettings, load_settings
from relay.edge.accounts import account_routes
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

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "examples" / "two-accounts.toml"
SECRETS = {"eu": "eu-webhook-secret", "us": "us-webhook-secret"}
ENV = {f"RELAY_ACCOUNT_{name.upper()}_HMAC_SECRETS": s for name, s in SECRETS.items()}


async def _start(
    aiohttp_client: ClientFactory, settings: Settings, amqp_url: str, pipeline: str
) -> TestClient[Any, Any]:
    broker = relay_settings(amqp_url, settings.topology, pipeline=pipeline)
    return await ready_relay(aiohttp_client, dataclasses.replace(settings, amqp=broker.amqp))


async def _example(
    aiohttp_client: ClientFactory, amqp_url: str, names: TopologySettings, pipeline: str
) -> TestClient[Any, Any]:
    settings = dataclasses.replace(load_settings(EXAMPLE, ENV), topology=names)
    return await _start(aiohttp_client, settings, amqp_url, pipeline)


async def test_the_example_refuses_a_cross_account_secret(
    aiohttp_client: ClientFactory,
    amqp_url: str,
    channel: AbstractChannel,
    names: TopologySettings,
    pipeline: str,
) -> None:
    """us's genuine signature on every eu path (and back) is 401; none reaches the broker."""
    client = await _example(aiohttp_client, amqp_url, names, pipeline)
    queue = await bind_all(channel, names)
    body = BODIES["mo_text"]
    for account, other in (("eu", "us"), ("us", "eu")):
        for route in account_routes(account):
            refused = await client.post(
                route.path,
                data=body,
                headers={**sign(SECRETS[other], body), "X-Request-Id": f"cross-{route.path}"},
            )
            assert refused.status == 401, route.path
    accepted = await client.post("/sms/eu", data=body, headers=sign(SECRETS["eu"], body))
    assert accepted.status == 200
    # Had a refused one been published, its confirm came before its answer: it would be
    # in the queue ahead of the accepted one.
    (message,) = await drain(queue, 1)
    assert message.headers["x-relay-path"] == "/sms/eu"
    assert await queue.get(no_ack=True, fail=False) is None


async def test_the_example_labels_every_message_with_its_account(
    aiohttp_client: ClientFactory,
    amqp_url: str,
    channel: AbstractChannel,
    names: TopologySettings,
    pipeline: str,
) -> None:
    """Every type on every path of both accounts arrives with x-sinch-account."""
    client = await _example(aiohttp_client, amqp_url, names, pipeline)
    queue = await bind_all(channel, names)
    sent = []
    for account, secret in SECRETS.items():
        for route in account_routes(account):
            for body in BODIES.values():
                response = await client.post(route.path, data=body, headers=sign(secret, body))
                assert response.status == 200
                sent.append((route.path, account))
    messages = await drain(queue, len(sent))
    got = [(m.headers["x-relay-path"], m.headers["x-sinch-account"]) for m in messages]
    assert sorted(got) == sorted(sent)


async def test_the_single_account_paths_publish_what_they_always_did(
    aiohttp_client: ClientFactory,
    amqp_url: str,
    channel: AbstractChannel,
    names: TopologySettings,
    pipeline: str,
) -> None:
    """No accounts configured: /sms, /sms/delivery-report, /sms/incoming as before, no account."""
    client = await _start(aiohttp_client, Settings(topology=names), amqp_url, pipeline)
    queue = await bind_all(channel, names)
    for route in account_routes(""):
        response = await client.post(route.path, data=BODIES["mo_text"])
        assert response.status == 200
    messages = await drain(queue, 3)
    paths = [m.headers["x-relay-path"] for m in messages]
    assert paths == ["/sms", "/sms/delivery-report", "/sms/incoming"]
    before = {"x-dedup-key", "x-request-id", "x-relay-path", "traceparent", "http-user-agent"}
    misrouted = before | {"x-misrouted"}  # mo_text on the delivery-report URL
    assert [set(m.headers) for m in messages] == [before, misrouted, before]
