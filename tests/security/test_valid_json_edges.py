"""Valid JSON that the fast parsers refuse (nesting past their depth, integers of thousands
of digits) or that would cost tens of times its size to build (too many containers) is
relayed unrouted with a reason, never answered 400 (which Sinch drops)."""

from __future__ import annotations

import io
import json
import math
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from relay.callback import deep_json
from relay.callback.validation import classify
from tests.security.conftest import MO_TEXT, RelayFactory
from tests.security.strategies import JSON_VALUES
from tests.support.fakes import headers_of

DEEP = b'{"type":"mo_text","x":' + b"[" * 5000 + b"]" * 5000 + b"}"
LIMIT_DEEP = b'{"type":"mo_text","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
LONG_INT = b'{"type":"delivery_report_sms","batch_id":"b","statuses":[],"total_message_count":'
# Within orjson's depth limit, so it used to be built whole: ~44 MiB of lists for 1 MiB.
NESTED = b'{"type":"mo_text","x":[' + (b"[" * 1000 + b"]" * 1000 + b",") * 520 + b"0]}"
# A genuine inbound message holding exactly the containers a body may hold (its own object,
# `x` and the arrays in `x`), and one more.
AT_LIMIT = MO_TEXT[:-1] + b',"x":[' + b"[]," * (deep_json.MAX_CONTAINERS - 3) + b"[]]}"
OVER_LIMIT = MO_TEXT[:-1] + b',"x":[' + b"[]," * (deep_json.MAX_CONTAINERS - 2) + b"[]]}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DEEP, "nesting_too_deep"),
        (LIMIT_DEEP, "too_many_containers"),
        (NESTED, "too_many_containers"),
        (OVER_LIMIT, "too_many_containers"),
        (LONG_INT + b"9" * 5000 + b"}", "integer_too_long"),
    ],
)
async def test_valid_json_beyond_parser_limits_goes_unrouted(
    relay: RelayFactory, body: bytes, reason: str
) -> None:
    """200, published once to the unrouted exchange, the body byte for byte."""
    client, publisher = await relay()
    response = await client.post("/sms", data=io.BytesIO(body))
    assert response.status == 200
    [message] = publisher.published
    assert (message.exchange, message.body) == ("sinch.sms.unrouted", body)
    assert headers_of(message)["x-unrouted-reason"] == reason


async def test_unbalanced_deep_nesting_is_still_400(relay: RelayFactory) -> None:
    """Depth buys no pass: a deep body that is not JSON is refused, nothing published."""
    client, publisher = await relay()
    body = b'{"type":"mo_text","x":' + b"[" * 5000 + b"]" * 4000 + b"}"
    assert (await client.post("/sms", data=body)).status == 400
    assert publisher.published == []


async def test_a_genuine_body_at_the_container_limit_is_routed(relay: RelayFactory) -> None:
    """The limit is exact: one container fewer and the callback reaches the consumers."""
    client, publisher = await relay()
    assert (await client.post("/sms", data=io.BytesIO(AT_LIMIT))).status == 200
    [message] = publisher.published
    assert (message.exchange, message.body) == ("sinch.sms.inbound", AT_LIMIT)


async def test_many_containers_that_are_not_json_are_still_400(relay: RelayFactory) -> None:
    """Only the top level is kept, but the body must still be JSON."""
    client, publisher = await relay()
    for body in (OVER_LIMIT + b" trailing", OVER_LIMIT[:-1], b"[" + OVER_LIMIT + b"]"):
        assert (await client.post("/sms", data=io.BytesIO(body))).status == 400
    assert publisher.published == []


def test_brackets_inside_strings_are_not_containers() -> None:
    """A long text full of brackets is one string: the body is parsed whole, and routed."""
    text = b"[{" * deep_json.MAX_CONTAINERS + b'\\"'
    body = MO_TEXT.replace(b'"body":"hi"', b'"body":"' + text + b'"')
    assert not deep_json.too_many_containers(body)
    assert classify(body).unrouted_reason is None


def test_an_unterminated_string_does_not_hide_containers() -> None:
    """Broken input is counted too (then refused): a lone quote or backslash at the end."""
    many = b"[]" * (deep_json.MAX_CONTAINERS + 1)
    for tail in (b'"', b'"\\', b'"\\"\\'):
        assert deep_json.too_many_containers(many + tail)


def test_a_body_of_many_containers_is_not_built_whole() -> None:
    """Classifying 1 MiB of nested arrays holds about its own size, not 40 times it."""
    classify(NESTED)  # compile and cache what the first call needs
    tracemalloc.start()
    try:
        event = classify(NESTED)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert event.unrouted_reason == "too_many_containers"
    assert peak < 4 * len(NESTED), f"peak {peak} bytes for a {len(NESTED)}-byte body"


def _cut(value: Any, keep_depth: int, depth: int = 0) -> Any:
    """`value` as deep_json keeps it: containers from `keep_depth` levels down are TOO_DEEP."""
    if isinstance(value, list | dict) and depth >= keep_depth:
        return deep_json.TOO_DEEP
    if isinstance(value, list):
        return [_cut(v, keep_depth, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _cut(v, keep_depth, depth + 1) for k, v in value.items()}
    return value


def _floats(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _floats(item)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.integers(min_value=1, max_value=4), st.sampled_from([None, 1]))
def test_what_deep_json_skips_and_keeps_matches_the_document(
    value: Any, keep_depth: int, indent: int | None
) -> None:
    """Skipping counts brackets in stretches; it must end each container exactly."""
    document = {"type": "x", "v": value, "after": [value, "tail"]}
    assume(all(math.isfinite(f) for f in _floats(document)))  # Infinity is no JSON
    text = json.dumps(document, indent=indent)
    doc, _ = deep_json.loads(text, keep_depth)
    assert doc == _cut(json.loads(text), keep_depth)
