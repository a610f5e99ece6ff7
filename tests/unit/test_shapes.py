"""The happy path of validation agrees with the generic checks it stands in for."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from relay.callback import shapes, validation
from relay.contract.fields import REQUIRED, STATUS_ITEM
from tests.payloads import BODIES

# Every JSON kind, with the look-alikes the table tells apart (a bool is never a number).
_KINDS: list[Any] = [True, None, 0, 1.5, "x", [], {}]


def _variants(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = [doc]
    for name in REQUIRED[doc["type"]]:
        out.append({k: v for k, v in doc.items() if k != name})
        out += [{**doc, name: kind} for kind in _KINDS]
    for i, item in enumerate(doc.get("statuses", [])):
        for name in STATUS_ITEM:
            without = {k: v for k, v in item.items() if k != name}
            for changed in [without, *({**item, name: kind} for kind in _KINDS)]:
                statuses = list(doc["statuses"])
                statuses[i] = changed
                out.append({**doc, "statuses": statuses})
        out += [{**doc, "statuses": [*doc["statuses"][:i], kind]} for kind in _KINDS]
    return out


def _generic(doc: dict[str, Any], body: bytes) -> tuple[str | None, str]:
    reason = validation._unrouted_reason(doc["type"], doc)
    return reason, validation.dedup_key(doc["type"], doc, body, reason)


@pytest.mark.parametrize("type_", sorted(REQUIRED))
def test_a_body_conforms_exactly_when_the_generic_checks_find_no_reason(type_: str) -> None:
    """Each missing field, each wrong kind, each bad status item: the same verdict."""
    for doc in _variants(orjson.loads(BODIES[type_])):
        reason, _ = _generic(doc, b"")
        assert shapes.conforms(doc, shapes.SHAPES[type_]) is (reason is None), doc


@pytest.mark.parametrize("type_", sorted(REQUIRED))
def test_a_conforming_body_gets_the_generic_dedup_key(type_: str) -> None:
    """The key is a contract: the happy path computes the very same one."""
    body = BODIES[type_]
    doc = orjson.loads(body)
    assert shapes.key(shapes.SHAPES[type_], doc, body) == _generic(doc, body)[1]
    assert validation.classify(body).dedup_key == _generic(doc, body)[1]
