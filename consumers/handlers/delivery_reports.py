"""Delivery-report worker: latest status per (batch_id, recipient), batch counts per batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consumers.amqp.envelope import Envelope
from consumers.errors import Reject
from consumers.model import BatchReport, Effect, RecipientReport, StatusCount, parse_timestamp

RECIPIENT_TYPES = frozenset({"recipient_delivery_report_sms", "recipient_delivery_report_mms"})
BATCH_TYPES = frozenset({"delivery_report_sms", "delivery_report_mms"})


class DeliveryReportHandler:
    """Turns a delivery-report callback into the effect to store; rejects malformed ones."""

    async def handle(self, envelope: Envelope) -> Effect:
        if envelope.type in RECIPIENT_TYPES:
            return recipient_report(envelope.type, envelope.payload)
        if envelope.type in BATCH_TYPES:
            return batch_report(envelope.type, envelope.payload)
        raise Reject(f"not a delivery report: {envelope.type}")


def recipient_report(event_type: str, p: Mapping[str, Any]) -> RecipientReport:
    at = _text(p, "at")
    try:
        at_us = parse_timestamp(at)
    except ValueError:
        raise Reject("field 'at' is not an ISO-8601 timestamp") from None
    reference = p.get("client_reference")
    return RecipientReport(
        batch_id=_text(p, "batch_id"),
        recipient=_text(p, "recipient"),
        status=_text(p, "status"),
        code=_code(p.get("code")),
        at=at,
        at_us=at_us,
        type=event_type,
        client_reference=reference if isinstance(reference, str) else None,
    )


def batch_report(event_type: str, p: Mapping[str, Any]) -> BatchReport:
    statuses = p.get("statuses")
    if not isinstance(statuses, list):
        raise Reject("field 'statuses' is missing or not a list")
    total = p.get("total_message_count", 0)
    return BatchReport(
        batch_id=_text(p, "batch_id"),
        type=event_type,
        total_message_count=total if isinstance(total, int) else 0,
        counts=tuple(_status_count(s) for s in statuses),
    )


def _status_count(entry: Any) -> StatusCount:
    if not isinstance(entry, dict) or not isinstance(entry.get("count", 0), int):
        raise Reject("a 'statuses' entry is malformed")
    return StatusCount(
        status=_text(entry, "status"), code=_code(entry.get("code")), count=entry.get("count", 0)
    )


def _text(p: Mapping[str, Any], key: str) -> str:
    value = p.get(key)
    if not isinstance(value, str) or not value:
        raise Reject(f"field {key!r} is missing or not a string")
    return value


def _code(value: Any) -> str:
    """Codes are integers, but old payloads carry strings: keep either as text."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Reject("field 'code' is missing or malformed")
    return str(value)
