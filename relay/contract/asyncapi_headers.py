"""The AsyncAPI header schemas: what every relayed message carries, and the optional ones.

Part of relay.contract.asyncapi; read from relay.contract.message, so the names cannot drift.
"""

from __future__ import annotations

from typing import Any

from relay.contract import message, reasons
from relay.contract.message import TRACEPARENT, TRACESTATE

Doc = dict[str, Any]


def headers(forward: tuple[str, ...], signature: bool, accounts: tuple[str, ...] = ()) -> Doc:
    """Every message's headers: the relay's, each `http-*` copy, Sinch's signature if
    forwarded; `accounts` are the configured Sinch accounts' names."""
    text = {"type": "string"}
    props: Doc = {
        message.DEDUP_KEY: {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "equal for every retry of one callback",
        },
        message.REQUEST_ID: {**text, "description": "the HTTP request id"},
        message.RELAY_PATH: {**text, "description": "the URL path Sinch called"},
        message.SINCH_ACCOUNT: _account(accounts),
        message.MISROUTED: {
            "type": "boolean",
            "description": "a known type on the other channel's URL",
        },
        message.SIGNATURE_STALE: {
            "type": "boolean",
            "description": "a genuine Sinch signature outside its window, never published "
            "before (only with a shared replay store: security.replay_store)",
        },
        message.REPLAYED: {
            "type": "boolean",
            "description": "republished from the archive by `relay replay` (same dedup key)",
        },
        message.RELAY_SOURCE: {
            "type": "string",
            "enum": ["unrouted", "quarantine", "replay", "backfill"],
            "description": "set only on a message a recovery command published again "
            "(docs/recovery.md); same body and x-dedup-key as the original (`backfill`: "
            "built from Sinch's list APIs, not the signed bytes)",
        },
        TRACEPARENT: {**text, "description": "W3C trace context of the relay's hop"},
        TRACESTATE: {**text, "description": "W3C tracestate, when Sinch's caller sent one"},
    }
    props |= {
        message.FORWARDED_PREFIX + name.lower(): {
            **text,
            "description": f"the request's {name} header",
        }
        for name in forward
    }
    if signature:
        props |= _signature_headers()
    return {
        "type": "object",
        "required": [message.DEDUP_KEY, message.REQUEST_ID, message.RELAY_PATH, TRACEPARENT],
        "properties": props,
    }


def _account(names: tuple[str, ...]) -> Doc:
    doc: Doc = {
        "type": "string",
        "description": "the Sinch account whose path the callback arrived on "
        "(/sms/<account>/...); absent on the single-account paths",
    }
    return doc | {"enum": list(names)} if names else doc


def _signature_headers() -> Doc:
    said = {
        message.SIGNATURE: "base64 HMAC of body.nonce.timestamp",
        message.NONCE: "the signature's nonce",
        message.TIMESTAMP: "the signature's Unix timestamp (seconds)",
        message.ALGORITHM: "e.g. HmacSHA256; absent means HmacSHA256",
    }
    suffix = " (Sinch's, as received: verify the body with Sinch's SDK)"
    return {name: {"type": "string", "description": text + suffix} for name, text in said.items()}


def unrouted_headers(
    forward: tuple[str, ...], signature: bool, accounts: tuple[str, ...] = ()
) -> Doc:
    """The headers of a message on the unrouted exchange: `headers` plus why it is there."""
    doc = headers(forward, signature, accounts)
    doc["properties"] = {
        **doc["properties"],
        message.UNROUTED_REASON: {
            "type": "string",
            "pattern": reasons.pattern(),
            "description": _reasons(),
        },
        message.SINCH_TYPE: {
            "type": "string",
            "description": "the body's `type`, up to 1024 characters",
        },
    }
    return doc


def _reasons() -> str:
    """Every reason the relay sets (relay.contract.reasons), each with what it means."""
    said = (
        f"{r}:NAME: {text}" if r in reasons.FIELD_REASONS else f"{r}: {text}"
        for r, text in reasons.UNROUTED_REASONS.items()
    )
    return "; ".join(said)
