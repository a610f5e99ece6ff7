"""The AsyncAPI document: built from the routing tables, served, and true to the broker.

The broker check declares the topology under unique names with relay.contract.topology.declare,
then re-declares every exchange and the unrouted queue exactly as the document describes
them: RabbitMQ answers PRECONDITION_FAILED unless type, durability, auto-delete and
arguments all match what exists, so the broker itself compares the two.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import aiormq
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection
from aiohttp.test_utils import TestClient

from relay.config import (
    AccountSettings,
    AmqpSettings,
    HttpSettings,
    Secret,
    Settings,
    TopologySettings,
)
from relay.contract import asyncapi, topology
from relay.contract.fields import REQUIRED
from relay.contract.message import SIGNATURE_HEADERS, SINCH_ACCOUNT
from relay.contract.routing import ROUTES
from relay.edge.app import create_app
from tests.names import unique_topology
from tests.support.fakes import FakePublisher

ClientFactory = Callable[..., Awaitable[TestClient]]  # type: ignore[type-arg]


def _names() -> TopologySettings:
    return unique_topology("test.asyncapi")


def test_every_type_has_a_channel_on_its_exchange() -> None:
    """One channel per routing-table type, bound by routing key on its channel's exchange."""
    names = _names()
    doc = asyncapi.document(Settings(topology=names))
    assert doc["asyncapi"] == "2.6.0"
    for type_ in ROUTES:
        channel = next(v for k, v in doc["channels"].items() if k.endswith(f"/{type_}"))
        binding = channel["bindings"]["amqp"]
        assert binding["is"] == "routingKey"
        assert binding["exchange"]["x-arguments"] == {"alternate-exchange": names.unrouted}
    assert names.unrouted in doc["channels"]


@pytest.mark.parametrize("type_", sorted(REQUIRED))
def test_payload_schemas_require_the_validated_fields(type_: str) -> None:
    """Each payload schema requires exactly `type` plus the validator's required fields."""
    schema = asyncapi.document(Settings())["components"]["schemas"][type_]
    assert set(schema["required"]) == {"type", *REQUIRED[type_]}
    assert schema["properties"]["type"]["const"] == type_
    assert schema["additionalProperties"] is True


def test_headers_list_relay_headers_and_forwarded_ones() -> None:
    """Headers: dedup key, request id, trace context, misrouted flag, each http-* copy."""
    settings = Settings(http=HttpSettings(forward_headers=("user-agent", "X-Custom")))
    schemas = asyncapi.document(settings)["components"]["schemas"]
    headers = schemas["RelayHeaders"]["properties"]
    assert {"x-dedup-key", "x-request-id", "traceparent", "x-misrouted"} <= headers.keys()
    assert {"http-user-agent", "http-x-custom"} <= headers.keys()
    assert "x-unrouted-reason" in schemas["UnroutedHeaders"]["properties"]


def test_signature_headers_are_described_only_when_forwarded() -> None:
    """With http.forward_signature the four Sinch headers are in both header schemas."""
    on = Settings(http=HttpSettings(forward_signature=True))
    for settings, expected in ((on, set(SIGNATURE_HEADERS)), (Settings(), set())):
        schemas = asyncapi.document(settings)["components"]["schemas"]
        for name in ("RelayHeaders", "UnroutedHeaders"):
            assert set(SIGNATURE_HEADERS) & schemas[name]["properties"].keys() == expected


def test_the_account_header_is_optional_and_names_the_configured_accounts() -> None:
    """x-sinch-account: in both header schemas, never required, its enum the account names."""
    accounts = (AccountSettings("eu"), AccountSettings("us"))
    for settings, enum in ((Settings(accounts=accounts), ["eu", "us"]), (Settings(), None)):
        schemas = asyncapi.document(settings)["components"]["schemas"]
        for name in ("RelayHeaders", "UnroutedHeaders"):
            header = schemas[name]["properties"][SINCH_ACCOUNT]
            assert header.get("enum") == enum
            assert SINCH_ACCOUNT not in schemas[name].get("required", [])


def test_server_host_and_vhost_come_from_the_amqp_url_without_credentials() -> None:
    """The configured broker's host, port and vhost are documented; its password never is."""
    url = Secret("amqps://relay-user:s3cr3t-pw@mq.example.net:5673/sinch%2Fprod")
    names = _names()
    doc = asyncapi.document(Settings(amqp=AmqpSettings(url=url), topology=names))
    (server,) = doc["servers"].values()
    assert server["protocol"] == "amqps"
    assert server["variables"]["host"]["default"] == "mq.example.net"
    assert server["variables"]["port"]["default"] == "5673"
    assert {spec["vhost"] for spec in asyncapi.exchanges(names, "sinch/prod").values()} == {
        "sinch/prod"
    }
    queue = doc["channels"][names.unrouted]["bindings"]["amqp"]["queue"]
    assert queue["vhost"] == "sinch/prod"
    exchange = next(iter(doc["channels"].values()))["bindings"]["amqp"]["exchange"]
    assert exchange["vhost"] == "sinch/prod"
    rendered = asyncapi.render(Settings(amqp=AmqpSettings(url=url))).decode()
    assert "s3cr3t-pw" not in rendered
    assert "relay-user" not in rendered


def test_default_vhost_is_slash() -> None:
    """A URL with no path or `/` names the default vhost `/`, as aiormq connects to it."""
    for url in ("amqp://guest:guest@127.0.0.1:5672/", "amqp://127.0.0.1"):
        doc = asyncapi.document(Settings(amqp=AmqpSettings(url=Secret(url))))
        (server,) = doc["servers"].values()
        assert server["variables"] == {
            "host": {"default": "127.0.0.1"},
            "port": {"default": "5672"},
        }
        queue = next(c for c in doc["channels"].values() if c["bindings"]["amqp"]["is"] == "queue")
        assert queue["bindings"]["amqp"]["queue"]["vhost"] == "/"


async def test_served_at_asyncapi_json(aiohttp_client: ClientFactory) -> None:
    """GET /asyncapi.json returns the same document as `relay asyncapi`."""
    settings = Settings(topology=_names())
    client = await aiohttp_client(create_app(settings, FakePublisher()))
    response = await client.get("/asyncapi.json")
    assert response.status == 200
    assert await response.json() == asyncapi.document(settings)


@pytest.fixture
async def connection(amqp_url: str) -> AsyncIterator[AbstractConnection]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield connection


@pytest.fixture
async def declared(connection: AbstractConnection) -> AsyncIterator[TopologySettings]:
    """The relay's topology declared under unique names, deleted afterwards."""
    names = _names()
    channel = await connection.channel()
    await topology.declare(channel, names)
    yield names
    cleanup = await connection.channel()
    await cleanup.queue_delete(names.unrouted)
    for name in (names.delivery_reports, names.inbound, names.unrouted):
        await cleanup.exchange_delete(name)


async def _redeclare_exchange(channel: AbstractChannel, spec: dict[str, Any]) -> None:
    await channel.declare_exchange(
        spec["name"],
        aio_pika.ExchangeType(spec["type"]),
        durable=spec["durable"],
        auto_delete=spec["autoDelete"],
        arguments=spec["x-arguments"],
    )


@pytest.mark.integration
async def test_document_matches_the_declared_topology(
    connection: AbstractConnection, declared: TopologySettings
) -> None:
    """Every exchange and the unrouted queue, as documented, are equivalent on the broker."""
    channel = await connection.channel()
    documented = asyncapi.exchanges(declared)
    assert set(documented) == {declared.delivery_reports, declared.inbound, declared.unrouted}
    for spec in documented.values():
        await _redeclare_exchange(channel, spec)
    doc = asyncapi.document(Settings(topology=declared))
    queue = doc["channels"][declared.unrouted]["bindings"]["amqp"]["queue"]
    await channel.declare_queue(
        queue["name"], durable=queue["durable"], arguments=queue["x-arguments"]
    )


@pytest.mark.integration
async def test_a_wrong_document_would_be_caught(
    connection: AbstractConnection, declared: TopologySettings
) -> None:
    """The comparison can fail: a differing argument is refused by the broker."""
    spec = asyncapi.exchanges(declared)[declared.inbound]
    wrong = {**spec, "x-arguments": {"alternate-exchange": "elsewhere"}}
    channel = await connection.channel()
    with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
        await _redeclare_exchange(channel, wrong)


@pytest.mark.integration
async def test_documented_routing_keys_route(
    connection: AbstractConnection, declared: TopologySettings
) -> None:
    """A queue bound with each channel's documented exchange and key gets that type."""
    doc = asyncapi.document(Settings(topology=declared))
    channel = await connection.channel()
    queue = await channel.declare_queue(exclusive=True)
    for name, spec in doc["channels"].items():
        if name == declared.unrouted:
            continue
        exchange = spec["bindings"]["amqp"]["exchange"]["name"]
        key = name.rsplit("/", 1)[1]
        await queue.bind(exchange, routing_key=key)
        published = await channel.get_exchange(exchange)
        await published.publish(aio_pika.Message(b"{}", type=key), routing_key=key)
        message = await queue.get(timeout=5)
        assert message is not None
        assert message.type == key
        await message.ack()
