"""The happy path of validation: a conforming known type in a few cheap calls.

`relay.callback.validation` checks a body against the field table with generic loops and
names the first field that fails; nearly every callback fails none. For a known type this
module answers "conforms?" with one expression built from the same table, and computes
the same dedup key without re-deciding which kind of key it is: classify cost ~43k
instructions, ~33k with this (docs/performance.md). Whenever a body does not conform, the
generic path runs as before and gives the reason.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

import orjson

from relay.contract.fields import REQUIRED, STATUS_ITEM, Fields
from relay.contract.routing import ROUTES, Flow


class Shape(NamedTuple):
    """A known type's checks and dedup key as a few cheap calls (the happy path).

    `validation`'s generic functions (`_unrouted_reason`, `dedup_key`) stay the reference.
    """

    flow: Flow
    conforms: Callable[[dict[str, Any]], bool]  # `KeyError` if a required field is absent
    key_kind: bytes  # what `validation._digest` puts before the hashed bytes
    stable: Callable[[Any], Any] | None  # fetches what the key hashes; None: the body


def _checker(fields: Fields) -> Callable[[dict[str, Any]], bool]:
    """`fields` as one expression, `type(d["id"]) is str and ...`: exactly when
    `missing_or_mistyped` finds nothing, but one specialised bytecode per field where the
    generic loop over the table costs ~13k instructions a callback (docs/performance.md).
    Built from the table, as `collections.namedtuple` builds its class, so the table stays
    the one statement of what a type requires.
    """
    kinds = {f"k{i}": k[0] if len(k) == 1 else k for i, k in enumerate(fields.values())}
    tests = (
        f"type(d[{name!r}]) {'is' if len(k) == 1 else 'in'} k{i}"
        for i, (name, k) in enumerate(fields.items())
    )
    # type(), like `missing_or_mistyped`'s exact __class__: parsed JSON holds no subclasses.
    check: Callable[[dict[str, Any]], bool] = eval(f"lambda d: {' and '.join(tests)}", kinds)
    return check


_STATUS_CONFORMS: Final = _checker(STATUS_ITEM)


def _batch_checker(fields: Fields) -> Callable[[dict[str, Any]], bool]:
    top = _checker(fields)

    def conforms(doc: dict[str, Any]) -> bool:
        if not top(doc):
            return False
        for item in doc["statuses"]:
            if type(item) is not dict or not _STATUS_CONFORMS(item):
                return False
        return True

    return conforms


def _shape(type_: str, flow: Flow) -> Shape:
    fields = REQUIRED[type_]
    if type_.startswith("mo_"):
        return Shape(flow, _checker(fields), b"mo\0", operator.itemgetter("id"))
    if type_.startswith("recipient_"):
        # `type` is `type_` itself: a known type is ASCII, never escaped. A tuple encodes
        # as the same JSON array as `dedup_key`'s list.
        stable = operator.itemgetter("type", "batch_id", "recipient", "code", "at")
        return Shape(flow, _checker(fields), b"dr\0", stable)
    batch = type_.startswith("delivery_report")  # as `_unrouted_reason` tells them apart
    return Shape(flow, (_batch_checker if batch else _checker)(fields), b"body\0", None)


SHAPES: Final = {type_: _shape(type_, flow) for type_, flow in ROUTES.items()}


def conforms(doc: dict[str, Any], shape: Shape) -> bool:
    """Exactly when `validation._unrouted_reason` is None for this known type."""
    try:
        return shape.conforms(doc)
    except KeyError:  # a required field is absent: the generic path names it
        return False


def key(shape: Shape, doc: Mapping[str, Any], body: bytes) -> str:
    """`validation.dedup_key` of a conforming known type, without its prefix tests."""
    if shape.stable is None:
        return hashlib.sha256(shape.key_kind + body).hexdigest()
    return hashlib.sha256(shape.key_kind + stable_bytes(shape.stable(doc))).hexdigest()


def stable_bytes(value: Any) -> bytes:
    """What a dedup key hashes of `value`: its JSON as orjson writes it."""
    try:
        return orjson.dumps(value)
    except TypeError:  # a lone surrogate (\ud800) that only the lenient parser accepts
        return json.dumps(value).encode()
