"""The worker's view of one AMQP delivery: the relay's headers, decoded once."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from consumers.errors import Reject
from relay.contract.message import DEDUP_KEY, REQUEST_ID

ATTEMPT_HEADER = "x-attempt"
REASON_HEADER = "x-dead-letter-reason"


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    """One callback as delivered: its type, payload, dedup key and attempt number."""

    type: str
    payload: Mapping[str, Any]
    body: bytes
    dedup_key: str
    attempt: int
    request_id: str | None


def attempt_of(headers: Mapping[str, Any]) -> int:
    """The 1-based attempt number the worker stamped on a retried message."""
    value = headers.get(ATTEMPT_HEADER, 1)
    return value if isinstance(value, int) and value >= 1 else 1


def dedup_key(headers: Mapping[str, Any], event_type: str, body: bytes) -> str:
    """The relay's `x-dedup-key`, else a hash of type and body (stable across redelivery)."""
    key = headers.get(DEDUP_KEY)
    if isinstance(key, bytes):
        key = key.decode("ascii", "replace")
    if isinstance(key, str) and key:
        return key
    return hashlib.sha256(event_type.encode() + b"\0" + body).hexdigest()


def open_envelope(body: bytes, amqp_type: str | None, headers: Mapping[str, Any]) -> Envelope:
    """Decode the JSON body; raise `Reject` for anything that can never be handled."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Reject("undecodable body: not JSON") from None
    if not isinstance(payload, dict):
        raise Reject("undecodable body: not a JSON object")
    event_type = payload.get("type") or amqp_type
    if not isinstance(event_type, str) or not event_type:
        raise Reject("undecodable body: no type")
    request_id = headers.get(REQUEST_ID)
    return Envelope(
        type=event_type,
        payload=payload,
        body=body,
        dedup_key=dedup_key(headers, event_type, body),
        attempt=attempt_of(headers),
        request_id=request_id if isinstance(request_id, str) else None,
    )
