"""An AsyncAPI 2.6 document of the relay's AMQP side, for the teams that bind queues to it.

Generated from the tables that drive the relay itself (the routing table, the topology
settings, the required-field table, the forwarded-header allowlist, the broker address),
so it cannot drift from what is published. `relay asyncapi` prints it; `GET /asyncapi.json`
serves it.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import orjson

from relay.config import Settings, TopologySettings
from relay.contract.asyncapi_headers import headers, unrouted_headers
from relay.contract.broker import Broker, broker
from relay.contract.fields import REQUIRED, STATUS_ITEM, Fields
from relay.contract.message import APP_ID, CONTENT_TYPE, PERSISTENT
from relay.contract.routing import ROUTES, Flow, exchange_for
from relay.contract.topology import channel_exchange_arguments

Doc = dict[str, Any]
BINDING_VERSION = "0.2.0"
_KINDS = {str: "string", int: "number", float: "number", dict: "object", list: "array"}


def document(settings: Settings) -> Doc:
    """The whole AsyncAPI document for these settings."""
    names = settings.topology
    brokers = [broker(url) for url in settings.amqp.addresses()]
    vhost = brokers[0].vhost  # cluster nodes share their vhosts
    return {
        "asyncapi": "2.6.0",
        "id": "urn:sinch-sms-relay:amqp",
        "info": _info(),
        "defaultContentType": CONTENT_TYPE,
        "servers": _servers(brokers),
        "channels": {
            **_type_channels(names, vhost),
            names.unrouted: _unrouted_channel(names, vhost),
        },
        "components": _components(
            settings.http.forward_headers,
            settings.http.forward_signature,
            tuple(a.name for a in settings.accounts),
        ),
    }


def exchanges(names: TopologySettings, vhost: str = "/") -> dict[str, Doc]:
    """Every exchange the document describes, by name: its AMQP channel-binding object."""
    found = {
        ch["bindings"]["amqp"]["exchange"]["name"]: ch["bindings"]["amqp"]["exchange"]
        for ch in _type_channels(names, vhost).values()
    }
    found[names.unrouted] = _unrouted_channel(names, vhost)["bindings"]["amqp"]["x-exchange"]
    return found


def _info() -> Doc:
    return {
        "title": "Sinch SMS relay: AMQP side",
        "version": _version(),
        "description": (
            "Sinch SMS callbacks, relayed byte for byte to RabbitMQ. Bind a queue to a "
            "channel exchange with routing key = callback type (or `#`). Callbacks of an "
            "unknown type or missing required fields go to the unrouted exchange instead. "
            "Delivery is at least once: deduplicate on the `x-dedup-key` header."
        ),
    }


def _version() -> str:
    try:
        return importlib.metadata.version("sinch-sms-relay")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def _servers(brokers: list[Broker]) -> Doc:
    if len(brokers) == 1:
        return {"rabbitmq": _server(brokers[0])}
    return {f"rabbitmq-{n}": _server(b) for n, b in enumerate(brokers, 1)}


def _server(address: Broker) -> Doc:
    # Host, port and vhost only: the URL's user and password never reach the document.
    return {
        "url": "{host}:{port}",
        "protocol": address.scheme,
        "protocolVersion": "0.9.1",
        "description": f"virtual host `{address.vhost}`",
        "variables": {
            "host": {"default": address.host},
            "port": {"default": str(address.port)},
        },
    }


def _type_channels(names: TopologySettings, vhost: str) -> dict[str, Doc]:
    return {
        f"{exchange_for(names, ch)}/{type_}": _channel(names, type_, ch, vhost)
        for type_, ch in ROUTES.items()
    }


def _channel(names: TopologySettings, type_: str, channel: Flow, vhost: str) -> Doc:
    arguments = channel_exchange_arguments(names)
    exchange = _exchange(exchange_for(names, channel), "topic", arguments, vhost)
    return {
        "description": f"`{type_}` callbacks: routing key `{type_}` on `{exchange['name']}`.",
        "subscribe": {
            "operationId": f"receive_{type_}",
            "summary": f"The relay publishes each accepted `{type_}` callback here.",
            "message": {"$ref": f"#/components/messages/{type_}"},
        },
        "bindings": {
            "amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": BINDING_VERSION}
        },
    }


def _unrouted_channel(names: TopologySettings, vhost: str) -> Doc:
    queue = {"name": names.unrouted, "durable": True, "exclusive": False, "autoDelete": False}
    queue |= {"vhost": vhost, "x-arguments": {"x-queue-type": names.unrouted_queue_type}}
    return {
        "description": (
            "Callbacks no queue was bound for (the alternate exchange of both channel "
            "exchanges) and callbacks that failed validation, with `x-unrouted-reason`."
        ),
        "subscribe": {
            "operationId": "receive_unrouted",
            "message": {"$ref": "#/components/messages/unrouted"},
        },
        "bindings": {
            "amqp": {
                "is": "queue",
                "queue": queue,
                "x-exchange": _exchange(names.unrouted, "fanout", {}, vhost),
                "bindingVersion": BINDING_VERSION,
            }
        },
    }


def _exchange(name: str, kind: str, arguments: Any, vhost: str) -> Doc:
    return {
        "name": name,
        "type": kind,
        "durable": True,
        "autoDelete": False,
        "vhost": vhost,
        "x-arguments": dict(arguments),
    }


def _components(forward: tuple[str, ...], signature: bool, accounts: tuple[str, ...]) -> Doc:
    messages = {type_: _message(type_) for type_ in ROUTES}
    messages["unrouted"] = _unrouted_message()
    schemas = {type_: _payload(type_, fields) for type_, fields in REQUIRED.items()}
    schemas["RelayHeaders"] = headers(forward, signature, accounts)
    schemas["UnroutedHeaders"] = unrouted_headers(forward, signature, accounts)
    return {"messages": messages, "schemas": schemas}


def _message(type_: str) -> Doc:
    return {
        "name": type_,
        "title": f"Sinch `{type_}` callback",
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/RelayHeaders"},
        "payload": {"$ref": f"#/components/schemas/{type_}"},
        "bindings": {"amqp": _message_binding(type_)},
    }


def _message_binding(type_: str | None) -> Doc:
    binding: Doc = {"deliveryMode": PERSISTENT, "bindingVersion": BINDING_VERSION}
    if type_ is not None:
        binding["messageType"] = type_
    binding["x-properties"] = {
        "content_type": CONTENT_TYPE,
        "app_id": APP_ID,
        "message_id": "a fresh hex UUID per publish",
        "correlation_id": "the HTTP request id (X-Request-Id)",
        "timestamp": "when the relay published",
    }
    return binding


def _unrouted_message() -> Doc:
    return {
        "name": "unrouted",
        "title": "A callback the relay could not route",
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/UnroutedHeaders"},
        "payload": {"description": "The callback body exactly as Sinch sent it."},
        "bindings": {"amqp": _message_binding(None)},
    }


def _payload(type_: str, fields: Fields) -> Doc:
    properties: Doc = {name: _kinds(kinds) for name, kinds in fields.items()}
    properties["type"] = {"type": "string", "const": type_}
    if "statuses" in fields:
        properties["statuses"]["items"] = _payload_items(STATUS_ITEM)
    return {
        "type": "object",
        "required": sorted({"type", *fields}),
        "properties": properties,
        "additionalProperties": True,
    }


def _payload_items(fields: Fields) -> Doc:
    props = {name: _kinds(kinds) for name, kinds in fields.items()}
    return {"type": "object", "required": list(fields), "properties": props}


def _kinds(kinds: tuple[type, ...]) -> Doc:
    names = sorted({_KINDS[k] for k in kinds})
    return {"type": names[0] if len(names) == 1 else names}


def render(settings: Settings) -> bytes:
    """The document as indented JSON."""
    return orjson.dumps(document(settings), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
