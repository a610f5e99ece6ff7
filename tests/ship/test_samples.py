"""Sample callbacks are valid Sinch callbacks of their type; signing matches Sinch's vector."""

from __future__ import annotations

import random

import orjson
import pytest

from relay.callback.validation import classify
from relay.contract import samples
from relay.contract.routing import ROUTES
from relay.edge.auth import signature

KNOWN_STATUSES = {"Queued", "Dispatched", "Delivered", "Failed", "Expired", "Rejected"}
SINCH_VECTOR_BODY = (
    b'{"at":"2025-01-13T09:22:40.914Z","batch_id":"01JHFFHQ0P99JPPNQPJDV7JTBP",'
    b'"client_reference":"a client reference","code":0,"operator_status_at":'
    b'"2025-01-13T09:22:00Z","recipient":"33662162466","status":"Delivered",'
    b'"type":"recipient_delivery_report_sms"}'
)


@pytest.mark.parametrize("type_", sorted(ROUTES))
def test_each_sample_is_routable_on_its_channel(type_: str) -> None:
    """Fifty bodies of each type pass the relay's validation and route to their channel."""
    rng = random.Random(7)
    for _ in range(50):
        event = classify(samples.sample(type_, rng))
        assert (event.type, event.flow, event.unrouted_reason) == (type_, ROUTES[type_], None)


def test_samples_are_distinct_callbacks() -> None:
    """Fresh ids on every call: a consumer's deduplication does not collapse them."""
    rng = random.Random(1)
    keys = {classify(samples.sample(t, rng)).dedup_key for t in ROUTES for _ in range(30)}
    assert len(keys) == 30 * len(ROUTES)


def test_batch_reports_count_their_recipients() -> None:
    """Batch report totals add up, statuses are Sinch's Title-case names."""
    rng = random.Random(3)
    for _ in range(50):
        body = samples.delivery_report_sms(rng)
        assert body["total_message_count"] == sum(s["count"] for s in body["statuses"])
        assert all(len(s["recipients"]) == s["count"] for s in body["statuses"])
        assert {s["status"] for s in body["statuses"]} <= KNOWN_STATUSES


def test_mo_media_carries_a_media_list() -> None:
    """MMS bodies are objects with a media list whose items have a content type and status."""
    rng = random.Random(4)
    items = [m for _ in range(50) for m in samples.mo_media(rng)["body"]["media"]]
    assert items
    assert all(m["status"] in ("Uploaded", "Failed") and m["content_type"] for m in items)
    assert all("url" in m for m in items if m["status"] == "Uploaded")


def test_seed_repeats_the_ids() -> None:
    """The same seed gives the same ids (timestamps follow the clock)."""
    first = orjson.loads(samples.sample("mo_text", random.Random(9)))
    again = orjson.loads(samples.sample("mo_text", random.Random(9)))
    assert (first["id"], first["from"]) == (again["id"], again["from"])


def test_signature_matches_sinch_known_answer() -> None:
    """Sinch's published vector: secret, nonce, timestamp and body give its signature."""
    headers = signature.sign(
        "SMSWebhooksSecret", SINCH_VECTOR_BODY, "01JHFFHWYY7HSS4FWTMDTQEK8V", "1736760161"
    )
    assert headers == {
        "x-sinch-webhook-signature": "ZoHei66PPN/kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0=",
        "x-sinch-webhook-signature-nonce": "01JHFFHWYY7HSS4FWTMDTQEK8V",
        "x-sinch-webhook-signature-timestamp": "1736760161",
        "x-sinch-webhook-signature-algorithm": "HmacSHA256",
    }


def test_fresh_signatures_use_new_nonces_and_now() -> None:
    """Without a nonce or timestamp, each signature gets a new nonce and the current time."""
    one, two = signature.sign("s", b"{}"), signature.sign("s", b"{}")
    assert one[signature.NONCE] != two[signature.NONCE]
    assert one[signature.TIMESTAMP].isdigit()
