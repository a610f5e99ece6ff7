"""Hypothesis strategies for hostile request parts: bodies, headers, addresses."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from relay.contract.routing import ROUTES

TYPES = st.sampled_from([*ROUTES, "", "mo_", "x" * 300, "délivery", "\x00"])
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "type",
        "id",
        "from",
        "to",
        "body",
        "received_at",
        "batch_id",
        "statuses",
        "recipient",
        "code",
        "status",
        "at",
        "total_message_count",
        "udh",
    ]
)


@st.composite
def callback_docs(draw: st.DrawFn) -> bytes:
    """JSON objects near the real shapes: known keys, wrong kinds, duplicates, huge numbers."""
    pairs: list[tuple[str, Any]] = [("type", draw(TYPES))]
    pairs += draw(st.lists(st.tuples(FIELDS, JSON_VALUES), max_size=8))
    text = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"
    return text.encode("utf-8", "surrogatepass")


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    """Structural abuse: deep nesting, giant numbers, BOMs, invalid UTF-8, truncation."""
    base = draw(callback_docs())
    kind = draw(st.integers(0, 5))
    if kind == 0:
        depth = draw(st.integers(1, 3000))
        return b'{"type":"mo_text","x":' + b"[" * depth + b"]" * depth + b"}"
    if kind == 1:
        return base[:-1] + b',"n":' + b"9" * draw(st.integers(300, 5000)) + b"}"
    if kind == 2:
        return b"\xef\xbb\xbf" + base
    if kind == 3:
        cut = draw(st.integers(0, len(base)))
        return base[:cut] + draw(st.binary(max_size=8)) + base[cut:]
    if kind == 4:
        return base.replace(b'"type"', b'"type":1,"type"', 1)
    return base[: draw(st.integers(0, len(base)))]


BODIES = st.one_of(st.binary(max_size=512), callback_docs(), mangled())
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
    max_size=64,
) | st.sampled_from(["", " ", "HmacSHA256", "HmacSHA512", "Basic", "Bearer ", "1736760161"])
ADDRESSES = st.one_of(
    st.ip_addresses().map(str),
    st.text(max_size=40),
    st.sampled_from(["", "127.0.0.1", "[::1]", "10.0.0.1 ", "999.1.1.1", "::ffff:10.0.0.1"]),
)
