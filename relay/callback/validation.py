"""Light validation of a Sinch callback body: pure functions, no I/O.

The body is parsed once. It must be a JSON object with a string `type`, or it is a
`BadRequest`. Known types are checked only for required fields and their JSON kind
(docs/sinch.md, section 1): never enum values, number formats or extra fields. A
known type that fails, or an unknown type, is still relayed, to the unrouted exchange,
with the reason: Sinch adds types, and answering 4xx would lose the callback for good.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

import orjson

from relay.callback import deep_json, shapes
from relay.callback.shapes import stable_bytes
from relay.contract import reasons
from relay.contract.fields import REQUIRED, STATUS_ITEM, Fields
from relay.contract.routing import ROUTES, Flow
from relay.errors import BadRequest

# AMQP shortstr fields (routing key, `type` property) hold at most 255 bytes.
MAX_TYPE_BYTES: Final = 255

_ABSENT = object()
# Shorter bodies cannot hold too many containers (two bytes each): no call on the hot path.
_COUNTED_ABOVE: Final = 2 * deep_json.MAX_CONTAINERS


class Event(NamedTuple):
    """What the edge learned from a body: enough to route it, never the body itself."""

    type: str
    flow: Flow | None  # None: unknown type
    unrouted_reason: str | None  # why it goes to the unrouted exchange; None when routable
    dedup_key: str


def classify(body: bytes) -> Event:
    """Parse `body` once and decide where it goes; `BadRequest` if it cannot be relayed."""
    doc, too_deep = parse_object(body)
    type_ = doc.get("type", _ABSENT)
    if not isinstance(type_, str):
        raise BadRequest("missing_type" if type_ is _ABSENT else "type_not_a_string")
    shape = shapes.SHAPES.get(type_)
    if shape is not None and too_deep is None and shapes.conforms(doc, shape):
        # A conforming known type, the common case: the same outcome and key for less;
        # tuple.__new__ in C, where the NamedTuple's generated __new__ costs ~1.4k more.
        return tuple.__new__(Event, (type_, shape.flow, None, shapes.key(shape, doc, body)))
    if not type_.isascii():
        # A lone surrogate (\ud800) parses but cannot be encoded into AMQP: escape it.
        type_ = type_.encode("utf-8", "backslashreplace").decode("utf-8")
    reason = too_deep or _unrouted_reason(type_, doc)
    return Event(type_, ROUTES.get(type_), reason, dedup_key(type_, doc, body, reason))


def parse_object(body: bytes) -> tuple[dict[str, Any], str | None]:
    """The body as a JSON object, and why it must go unrouted if some of it could not be
    kept as parsed (too deep, an integer too long): downstream parsers would refuse it too.

    orjson first; then stdlib `json` and `deep_json` where orjson is stricter than JSON.
    A body of more than `deep_json.MAX_CONTAINERS` arrays and objects is never built
    whole (tens of bytes of memory per byte of body): its top level only, and unrouted.
    """
    if len(body) > _COUNTED_ABOVE and deep_json.too_many_containers(body):
        doc, too_deep = _top_level(body), reasons.TOO_MANY_CONTAINERS
    else:
        try:
            doc, too_deep = orjson.loads(body), None
        except orjson.JSONDecodeError:
            doc, too_deep = _lenient_loads(body)
    if not isinstance(doc, dict):
        raise BadRequest("not_an_object")
    return doc, too_deep


def _lenient_loads(body: bytes) -> tuple[Any, str | None]:
    # orjson rejects a UTF-8 BOM, numbers beyond a double or 64 bits and nesting past 1024
    # levels; stdlib json integers past 4300 digits and nesting past the recursion limit.
    # All are valid JSON: rejecting such a callback (400) would lose it for good.
    long_ints: list[str] = []

    def integer(digits: str) -> int | float:
        if len(digits) > deep_json.MAX_INT_DIGITS:
            long_ints.append(digits[:1])
        return deep_json.int_or_float(digits)

    try:
        text = body.decode("utf-8-sig")
        doc = json.loads(text, parse_int=integer)
        return doc, reasons.INTEGER_TOO_LONG if long_ints else None
    except RecursionError:
        pass
    except ValueError:
        raise BadRequest("invalid_json") from None
    try:
        doc, truncated = deep_json.loads(text)
    except ValueError:
        raise BadRequest("invalid_json") from None
    return doc, reasons.NESTING_TOO_DEEP if truncated else None


def _top_level(body: bytes) -> Any:
    try:
        return deep_json.loads(body.decode("utf-8-sig"), keep_depth=1)[0]
    except ValueError:
        raise BadRequest("invalid_json") from None


def _unrouted_reason(type_: str, doc: Mapping[str, Any]) -> str | None:
    if len(type_.encode()) > MAX_TYPE_BYTES:
        return reasons.TYPE_TOO_LONG
    fields = REQUIRED.get(type_)
    if fields is None:
        return reasons.UNKNOWN_TYPE
    reason = missing_or_mistyped(doc, fields)
    if reason is None and type_.startswith("delivery_report"):
        reason = _statuses_reason(doc["statuses"])
    return reason


def missing_or_mistyped(doc: Mapping[str, Any], fields: Fields) -> str | None:
    """The first required field that is absent or of the wrong JSON kind, as a reason."""
    for name, kinds in fields.items():
        value = doc.get(name, _ABSENT)
        if value is _ABSENT:
            return f"{reasons.MISSING_FIELD}:{name}"
        # Exact classes: parsed JSON holds no subclasses, and a bool is never a number.
        if value.__class__ not in kinds:
            return f"{reasons.WRONG_KIND}:{name}"
    return None


def _statuses_reason(statuses: list[Any]) -> str | None:
    for item in statuses:
        if not isinstance(item, dict):
            return f"{reasons.WRONG_KIND}:statuses[]"
        reason = missing_or_mistyped(item, STATUS_ITEM)
        if reason is not None:
            return reason.replace(":", ":statuses[].", 1)
    return None


def dedup_key(type_: str, doc: Mapping[str, Any], body: bytes, reason: str | None) -> str:
    """A hex key equal for every retry of the same callback (docs/sinch.md, section 2).

    Hashed rather than joined, so that keys carry no phone numbers into headers or logs.
    """
    if reason is None and type_.startswith("mo_"):
        return _digest(b"mo", stable_bytes(doc["id"]))
    if reason is None and type_.startswith("recipient_"):
        stable = [type_, doc["batch_id"], doc["recipient"], doc["code"], doc["at"]]
        return _digest(b"dr", stable_bytes(stable))
    return _digest(b"body", body)


def _digest(kind: bytes, data: bytes) -> str:
    return hashlib.sha256(kind + b"\0" + data).hexdigest()
