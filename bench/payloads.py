"""Realistic Sinch callbacks of all seven types, shaped and sized like production traffic.

Sizes follow Sinch's documented examples: per-recipient reports ~300 bytes, batch
reports with a few statuses ~250-400 bytes, MO texts up to one 160-char SMS, MMS media
with two items ~700 bytes. Every body is distinct (ids, batch ids, numbers), so a
consumer's deduplication does not collapse them.
"""

from __future__ import annotations

import base64
import dataclasses
import random
from collections.abc import Callable
from typing import Any

import orjson

from relay.contract.routing import FLOW_PATHS, ROUTES

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TEXT = (
    "Hi! Your order 4471 has shipped and will arrive tomorrow between 9 and 12. "
    "Reply STOP to opt out, HELP for help. Thanks for shopping with us today!!"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Callback:
    """One POST: the path Sinch would call and the exact body bytes."""

    type: str
    path: str
    body: bytes


def ulid(rng: random.Random) -> str:
    return "01J" + "".join(rng.choice(_ALPHABET) for _ in range(23))


def msisdn(rng: random.Random) -> str:
    return "4670" + "".join(rng.choice("0123456789") for _ in range(7))


def _at(rng: random.Random) -> str:
    return (
        f"2025-01-13T09:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
    )


def _recipient_report(type_: str, rng: random.Random) -> dict[str, Any]:
    return {
        "type": type_,
        "batch_id": ulid(rng),
        "recipient": msisdn(rng),
        "code": 0,
        "status": "Delivered",
        "at": _at(rng),
        "operator_status_at": "2025-01-13T09:22:00Z",
        "client_reference": f"order-{rng.randrange(10**6)}",
        "applied_originator": "MyShop",
        "encoding": "GSM",
        "number_of_message_parts": 1,
        "operator": "24007",
    }


def _batch_report(type_: str, rng: random.Random) -> dict[str, Any]:
    count = rng.randrange(1, 4)
    statuses = [
        {"code": 0, "status": "Delivered", "count": count},
        {"code": 401, "status": "Dispatched", "count": 1},
    ]
    if rng.random() < 0.5:
        statuses.append({"code": 406, "status": "Expired", "count": 1, "recipients": [msisdn(rng)]})
    return {
        "type": type_,
        "batch_id": ulid(rng),
        "statuses": statuses,
        "total_message_count": count + 2,
        "client_reference": f"campaign-{rng.randrange(10**4)}",
    }


def _mo(type_: str, rng: random.Random, body: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "id": ulid(rng),
        "from": msisdn(rng),
        "to": "46700000123",
        "body": body,
        "received_at": _at(rng),
        "sent_at": _at(rng),
        "operator_id": "24001",
    }


def _mo_text(type_: str, rng: random.Random) -> dict[str, Any]:
    return _mo(type_, rng, _TEXT[: rng.randrange(2, len(_TEXT))])


def _mo_binary(type_: str, rng: random.Random) -> dict[str, Any]:
    doc = _mo(type_, rng, base64.b64encode(rng.randbytes(96)).decode())
    doc["udh"] = "050003cc0201"
    return doc


def _mo_media(type_: str, rng: random.Random) -> dict[str, Any]:
    media = [
        {
            "url": f"https://mms.example.com/media/{ulid(rng)}.jpg",
            "content_type": "image/jpeg",
            "status": "Uploaded",
            "code": 0,
        },
        {
            "url": f"https://mms.example.com/media/{ulid(rng)}.txt",
            "content_type": "text/plain",
            "status": "Uploaded",
            "code": 0,
        },
    ]
    return _mo(type_, rng, {"subject": "Photo", "message": _TEXT[:60], "media": media})


_BUILDERS: dict[str, Callable[[str, random.Random], dict[str, Any]]] = {
    "delivery_report_sms": _batch_report,
    "delivery_report_mms": _batch_report,
    "recipient_delivery_report_sms": _recipient_report,
    "recipient_delivery_report_mms": _recipient_report,
    "mo_text": _mo_text,
    "mo_binary": _mo_binary,
    "mo_media": _mo_media,
}
assert _BUILDERS.keys() == ROUTES.keys(), "payloads must cover every routed type"

# Rough production mix: per-recipient reports dominate, MMS is rare.
MIX: dict[str, int] = {
    "recipient_delivery_report_sms": 8,
    "recipient_delivery_report_mms": 1,
    "delivery_report_sms": 2,
    "delivery_report_mms": 1,
    "mo_text": 3,
    "mo_binary": 1,
    "mo_media": 1,
}


def callback(type_: str, rng: random.Random) -> Callback:
    """One callback of `type_`, posted to its channel's URL."""
    body = orjson.dumps(_BUILDERS[type_](type_, rng))
    return Callback(type_, FLOW_PATHS[ROUTES[type_]], body)


def sample(count: int, seed: int = 6) -> list[Callback]:
    """`count` distinct callbacks in the production mix, interleaved, reproducible."""
    rng = random.Random(seed)
    cycle = [t for t, weight in MIX.items() for _ in range(weight)]
    return [callback(cycle[i % len(cycle)], rng) for i in range(count)]


def size_summary(callbacks: list[Callback]) -> dict[str, int]:
    """Mean body size in bytes per type (reported with the results)."""
    sizes: dict[str, list[int]] = {}
    for cb in callbacks:
        sizes.setdefault(cb.type, []).append(len(cb.body))
    return {t: sum(s) // len(s) for t, s in sizes.items()}
