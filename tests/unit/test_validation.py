"""Light validation: what is rejected (never relayable), what is routed, what is unrouted."""

from __future__ import annotations

import orjson
import pytest

from relay.callback.validation import classify
from relay.contract.fields import REQUIRED
from relay.contract.routing import ROUTES, Flow
from relay.errors import BadRequest
from tests.payloads import BODIES


def _with(type_: str, **changes: object) -> bytes:
    doc = orjson.loads(BODIES[type_])
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return orjson.dumps(doc)


@pytest.mark.parametrize("type_", sorted(ROUTES))
def test_every_known_type_is_routed_to_its_channel(type_: str) -> None:
    """A valid body of each type is routable on the channel the routing table names."""
    event = classify(BODIES[type_])
    assert (event.type, event.flow, event.unrouted_reason) == (type_, ROUTES[type_], None)


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[1,2]", b'"mo_text"', b"null", b"{", b"\xff\xfe{}"]
)
def test_a_body_that_is_not_a_json_object_is_a_bad_request(body: bytes) -> None:
    """Only bodies that can never become a callback are rejected."""
    with pytest.raises(BadRequest):
        classify(body)


@pytest.mark.parametrize("body", [b"{}", b'{"type":1}', b'{"type":null}', b'{"type":["mo_text"]}'])
def test_an_object_without_a_string_type_is_a_bad_request(body: bytes) -> None:
    """The discriminator must be a string: there is nothing to route by otherwise."""
    with pytest.raises(BadRequest, match="type"):
        classify(body)


@pytest.mark.parametrize(("type_", "field"), [(t, f) for t in REQUIRED for f in REQUIRED[t]])
def test_a_missing_required_field_sends_the_callback_to_unrouted(type_: str, field: str) -> None:
    """A known type missing a field is still relayed, flagged with the reason."""
    event = classify(_with(type_, **{field: None}))
    assert event.unrouted_reason == f"missing_field:{field}"


def test_a_required_field_of_the_wrong_kind_is_unrouted() -> None:
    """`batch_id` must be a string; a number is flagged, not rejected."""
    assert (
        classify(_with("delivery_report_sms", batch_id=7)).unrouted_reason == "wrong_kind:batch_id"
    )


def test_booleans_do_not_count_as_numbers() -> None:
    """JSON true is not a count, even though Python's bool is an int."""
    event = classify(_with("delivery_report_sms", total_message_count=True))
    assert event.unrouted_reason == "wrong_kind:total_message_count"


def test_a_status_item_without_a_count_is_unrouted() -> None:
    """Batch reports are checked one level down, in `statuses[]`."""
    event = classify(_with("delivery_report_sms", statuses=[{"code": 0, "status": "Delivered"}]))
    assert event.unrouted_reason == "missing_field:statuses[].count"


def test_open_enums_extra_fields_and_string_codes_are_accepted() -> None:
    """Unknown statuses, new fields and a string `code` are valid data, never flagged."""
    body = _with("recipient_delivery_report_sms", status="Teleported", code="0", new_field={"x": 1})
    assert classify(body).unrouted_reason is None


def test_an_empty_text_body_is_valid() -> None:
    """mo_text allows 0..2000 characters: empty is a real message."""
    assert classify(_with("mo_text", body="")).unrouted_reason is None


def test_an_unknown_type_is_unrouted_not_rejected() -> None:
    """Sinch adds types; a 4xx would lose them forever."""
    event = classify(b'{"type":"delivery_report_rcs","batch_id":"b"}')
    assert (event.flow, event.unrouted_reason) == (None, "unknown_type")


def test_a_type_too_long_for_an_amqp_shortstr_is_unrouted() -> None:
    """Routing keys and the AMQP type property hold at most 255 bytes."""
    event = classify(orjson.dumps({"type": "x" * 300}))
    assert event.unrouted_reason == "type_too_long"


@pytest.mark.parametrize(
    "body",
    [
        b'\xef\xbb\xbf{"type":"mo_text"}',  # UTF-8 byte order mark
        b'{"type":"x","n":1e400}',  # beyond a double
    ],
)
def test_json_that_orjson_refuses_but_is_still_json_is_accepted(body: bytes) -> None:
    """The lenient fallback keeps valid-but-unusual JSON from becoming a lost callback."""
    assert classify(body).type in ("mo_text", "x")


def test_absurd_nesting_is_valid_json_relayed_unrouted_not_a_crash() -> None:
    """Thousands of nested arrays are valid JSON with a string type: unrouted, with a reason."""
    event = classify(b'{"type":"x","deep":' + b"[" * 9_000 + b"]" * 9_000 + b"}")
    assert (event.type, event.unrouted_reason) == ("x", "nesting_too_deep")


def test_duplicate_keys_take_the_last_value() -> None:
    """Duplicate keys are legal JSON; the last one wins, as in every mainstream parser."""
    assert classify(b'{"type":"nope","type":"mo_text"}').type == "mo_text"


def test_retries_of_a_callback_share_a_dedup_key() -> None:
    """Sinch retries resend the same callback: the key must not change."""
    first = classify(BODIES["mo_text"])
    again = classify(BODIES["mo_text"])
    assert first.dedup_key == again.dedup_key
    assert len(first.dedup_key) == 64


def test_inbound_dedup_key_depends_on_id_only() -> None:
    """The same inbound `id` re-serialised differently is still the same message."""
    original = classify(BODIES["mo_text"])
    reordered = orjson.loads(BODIES["mo_text"])
    reordered = dict(reversed(list(reordered.items())))
    assert classify(orjson.dumps(reordered)).dedup_key == original.dedup_key
    assert classify(_with("mo_text", id="other")).dedup_key != original.dedup_key


def test_recipient_report_dedup_key_uses_batch_recipient_code_and_at() -> None:
    """A new status for the same recipient is a different event; a retry is not."""
    base = classify(BODIES["recipient_delivery_report_sms"]).dedup_key
    assert classify(_with("recipient_delivery_report_sms", operator="x")).dedup_key == base
    assert classify(_with("recipient_delivery_report_sms", code=401)).dedup_key != base
    assert (
        classify(_with("recipient_delivery_report_sms", at="2026-01-01T00:00:00Z")).dedup_key
        != base
    )


def test_dedup_keys_do_not_contain_phone_numbers() -> None:
    """Keys travel in headers and logs: they are hashes, not concatenations."""
    key = classify(BODIES["recipient_delivery_report_sms"]).dedup_key
    assert "33662162466" not in key


def test_channels_cover_all_types() -> None:
    """Every known type belongs to exactly one of the two spec channels."""
    assert set(ROUTES.values()) == set(Flow)
