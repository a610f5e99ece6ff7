"""Realistic Sinch callback bodies, one generator per known type, for simulators and tests.

Field values follow Sinch's documentation (docs/sinch.md, section 1): 26-character
ULID-style ids, MSISDNs mostly without `+`, ISO-8601 timestamps with milliseconds,
Title-case statuses with their codes. Every call draws fresh ids from the `random.Random`
it is given, so a seeded generator repeats and distinct bodies never collapse as duplicates.
"""

from __future__ import annotations

import base64
import datetime
import random
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import orjson

from relay.contract.routing import ROUTES

Body = dict[str, Any]
Generator = Callable[[random.Random], Body]

_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FINAL = (("Delivered", 0), ("Failed", 402), ("Expired", 406), ("Rejected", 408))
_INTERMEDIATE = (("Queued", 400), ("Dispatched", 401))
_TEXTS = ("STOP", "Yes, see you at 10", "HELP", "Thanks! 👍", "", "Wrong number, sorry")
_MEDIA = (("image/jpeg", "jpg"), ("image/png", "png"), ("video/mp4", "mp4"))


def ulid(rng: random.Random) -> str:
    """A Sinch-style 26-character Crockford base32 id."""
    return "".join(rng.choice(_ULID_ALPHABET) for _ in range(26))


def msisdn(rng: random.Random) -> str:
    """A plausible mobile number; one in ten carries a leading `+`, as Sinch sometimes sends."""
    country = rng.choice(("46", "44", "33", "1", "49"))
    number = country + "".join(rng.choice("0123456789") for _ in range(9))
    return "+" + number if rng.random() < 0.1 else number


def timestamp(rng: random.Random) -> str:
    """A recent UTC time, ISO-8601 with milliseconds and `Z`."""
    now = datetime.datetime.now(datetime.UTC)
    moment = now - datetime.timedelta(seconds=rng.uniform(0, 60))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def delivery_report(rng: random.Random, type_: str) -> Body:
    """A batch report: a few status groups whose counts add up to the total."""
    groups = rng.sample(_FINAL, k=rng.randint(1, 3))
    statuses = [_status_group(rng, status, code) for status, code in groups]
    body: Body = {
        "type": type_,
        "batch_id": ulid(rng),
        "statuses": statuses,
        "total_message_count": sum(s["count"] for s in statuses),
    }
    if rng.random() < 0.5:
        body["client_reference"] = f"campaign-{rng.randint(1, 999)}"
    return body


def _status_group(rng: random.Random, status: str, code: int) -> Body:
    recipients = [msisdn(rng) for _ in range(rng.randint(1, 4))]
    return {"code": code, "status": status, "count": len(recipients), "recipients": recipients}


def recipient_report(rng: random.Random, type_: str) -> Body:
    """A per-recipient report, sometimes an intermediate status."""
    status, code = rng.choice(_FINAL + _INTERMEDIATE)
    return {
        "type": type_,
        "batch_id": ulid(rng),
        "recipient": msisdn(rng),
        "code": code,
        "status": status,
        "at": timestamp(rng),
        "operator_status_at": timestamp(rng),
        "applied_originator": rng.choice(("12345", "SinchShop")),
        "encoding": rng.choice(("GSM", "UNICODE")),
        "number_of_message_parts": rng.randint(1, 3),
    }


def mo(rng: random.Random, type_: str, body: Any) -> Body:
    """The fields every inbound message shares, around a type-specific `body`."""
    return {
        "type": type_,
        "id": ulid(rng),
        "from": msisdn(rng),
        "to": rng.choice(("12345", "447537404817")),
        "body": body,
        "received_at": timestamp(rng),
        "sent_at": timestamp(rng),
        "operator_id": rng.choice(("24001", "23410", "20801")),
    }


def delivery_report_sms(rng: random.Random) -> Body:
    return delivery_report(rng, "delivery_report_sms")


def delivery_report_mms(rng: random.Random) -> Body:
    return delivery_report(rng, "delivery_report_mms")


def recipient_delivery_report_sms(rng: random.Random) -> Body:
    return recipient_report(rng, "recipient_delivery_report_sms")


def recipient_delivery_report_mms(rng: random.Random) -> Body:
    return recipient_report(rng, "recipient_delivery_report_mms")


def mo_text(rng: random.Random) -> Body:
    return mo(rng, "mo_text", rng.choice(_TEXTS))


def mo_binary(rng: random.Random) -> Body:
    payload = base64.b64encode(rng.randbytes(rng.randint(8, 120))).decode()
    body = mo(rng, "mo_binary", payload)
    body["udh"] = "0605040B8423F0"
    return body


def mo_media(rng: random.Random) -> Body:
    media = [_media_item(rng) for _ in range(rng.randint(1, 2))]
    return mo(rng, "mo_media", {"subject": "Photo", "message": rng.choice(_TEXTS), "media": media})


def _media_item(rng: random.Random) -> Body:
    content_type, ext = rng.choice(_MEDIA)
    if rng.random() < 0.1:
        return {"content_type": content_type, "status": "Failed", "code": rng.randint(1, 3)}
    url = f"https://mms.example.com/media/{ulid(rng)}.{ext}"
    return {"url": url, "content_type": content_type, "status": "Uploaded", "code": 0}


GENERATORS: Mapping[str, Generator] = MappingProxyType(
    {
        "delivery_report_sms": delivery_report_sms,
        "delivery_report_mms": delivery_report_mms,
        "recipient_delivery_report_sms": recipient_delivery_report_sms,
        "recipient_delivery_report_mms": recipient_delivery_report_mms,
        "mo_text": mo_text,
        "mo_binary": mo_binary,
        "mo_media": mo_media,
    }
)
assert GENERATORS.keys() == ROUTES.keys(), "samples and routing tables disagree"


def sample(type_: str, rng: random.Random) -> bytes:
    """The exact bytes of one fresh callback of `type_`, compact JSON as Sinch sends."""
    return orjson.dumps(GENERATORS[type_](rng))
