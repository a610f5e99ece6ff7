"""Inbound worker: stores MO messages by id and keeps the opt-out list up to date."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from consumers.amqp.envelope import Envelope
from consumers.errors import Reject
from consumers.model import Effect, InboundMessage, OptChange, parse_timestamp

INBOUND_TYPES = frozenset({"mo_text", "mo_binary", "mo_media"})
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})


def opt_change(text: str) -> OptChange | None:
    """An opt-out or opt-in when the whole message is one keyword (any case, any spacing)."""
    word = "".join(text.split()).upper()
    if word in OPT_OUT_KEYWORDS:
        return OptChange(opted_out=True, keyword=word)
    if word in OPT_IN_KEYWORDS:
        return OptChange(opted_out=False, keyword=word)
    return None


class InboundHandler:
    """Turns an MO callback into the message (and opt change) to store."""

    async def handle(self, envelope: Envelope) -> Effect:
        if envelope.type not in INBOUND_TYPES:
            raise Reject(f"not an inbound message: {envelope.type}")
        return inbound_message(envelope.type, envelope.payload, envelope.body)


def inbound_message(event_type: str, p: Mapping[str, Any], raw: bytes) -> InboundMessage:
    """The message to store; `raw` is the callback body exactly as Sinch sent it."""
    received_at = _text(p, "received_at")
    try:
        received_at_us = parse_timestamp(received_at)
    except ValueError:
        raise Reject("field 'received_at' is not an ISO-8601 timestamp") from None
    body = _body(event_type, p.get("body"))
    udh = p.get("udh")
    return InboundMessage(
        id=_text(p, "id"),
        type=event_type,
        sender=_text(p, "from"),
        to=_text(p, "to"),
        body=body,
        udh=udh if isinstance(udh, str) else None,
        received_at=received_at,
        received_at_us=received_at_us,
        payload=raw.decode("utf-8", "replace"),
        opt=_opt(event_type, p.get("body"), body),
    )


def _opt(event_type: str, raw_body: Any, text: str) -> OptChange | None:
    """Keywords count in an SMS body and in the text part of an MMS, never in binary."""
    if event_type == "mo_text":
        return opt_change(text)
    if event_type == "mo_media" and isinstance(message := raw_body.get("message"), str):
        return opt_change(message)
    return None


def _body(event_type: str, body: Any) -> str:
    if event_type == "mo_media":
        if not isinstance(body, dict):
            raise Reject("field 'body' of mo_media is not an object")
        return orjson.dumps(body).decode()
    if not isinstance(body, str):
        raise Reject("field 'body' is missing or not a string")
    return body


def _text(p: Mapping[str, Any], key: str) -> str:
    value = p.get(key)
    if not isinstance(value, str) or not value:
        raise Reject(f"field {key!r} is missing or not a string")
    return value
