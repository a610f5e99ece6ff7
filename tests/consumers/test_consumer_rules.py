"""Handler rules as pure functions: monotonic status, keywords, decoding, retry policy."""

from __future__ import annotations

import pytest

from consumers.amqp.envelope import Envelope, dedup_key, open_envelope
from consumers.config import ConfigError, WorkerKind, load_settings
from consumers.errors import Reject
from consumers.handlers.delivery_reports import (
    DeliveryReportHandler,
    batch_report,
    recipient_report,
)
from consumers.handlers.inbound import InboundHandler, inbound_message, opt_change
from consumers.model import RecipientReport, parse_timestamp, supersedes
from consumers.policy import DeadLetter, RetryLater, RetryPolicy
from tests.payloads import BODIES


def report(status: str, at: str) -> RecipientReport:
    return recipient_report(
        "recipient_delivery_report_sms",
        {"batch_id": "B", "recipient": "1", "status": status, "code": 0, "at": at},
    )


T1, T2 = "2025-01-13T09:00:00Z", "2025-01-13T09:00:01.5Z"


@pytest.mark.parametrize("final", ["Delivered", "Failed", "Expired", "Rejected", "Unknown", "New"])
@pytest.mark.parametrize("intermediate", ["Queued", "Dispatched"])
def test_late_intermediate_never_overwrites_final(final: str, intermediate: str) -> None:
    """A Queued/Dispatched report, even with a later `at`, does not replace a final one."""
    assert not supersedes(report(intermediate, T2), report(final, T1))
    assert supersedes(report(final, T1), report(intermediate, T2))


def test_between_reports_of_one_kind_the_later_at_wins() -> None:
    """Final vs final and intermediate vs intermediate are decided by `at`, not arrival."""
    assert supersedes(report("Failed", T2), report("Delivered", T1))
    assert not supersedes(report("Delivered", T1), report("Failed", T2))
    assert supersedes(report("Dispatched", T2), report("Queued", T1))
    assert not supersedes(report("Dispatched", T1), report("Queued", T1))


def test_timestamps_of_either_precision_compare_as_instants() -> None:
    """Whole seconds, milliseconds and offsets parse to the same epoch scale."""
    assert parse_timestamp("2025-01-13T09:22:40Z") < parse_timestamp("2025-01-13T09:22:40.914Z")
    assert parse_timestamp("2025-01-13T10:22:40+01:00") == parse_timestamp("2025-01-13T09:22:40Z")


def test_recipient_report_keeps_string_codes_and_unknown_statuses() -> None:
    """Open enums: an unknown status is final data; a string code is kept as text."""
    r = recipient_report(
        "recipient_delivery_report_mms",
        {"batch_id": "B", "recipient": "+1", "status": "Teleported", "code": "499", "at": T1},
    )
    assert (r.status, r.code, r.is_final) == ("Teleported", "499", True)


@pytest.mark.parametrize(
    "payload",
    [
        {"recipient": "1", "status": "Delivered", "code": 0, "at": T1},
        {"batch_id": "B", "recipient": "1", "status": "Delivered", "code": 0, "at": "yesterday"},
        {"batch_id": "B", "recipient": "1", "status": "Delivered", "code": None, "at": T1},
    ],
)
def test_malformed_recipient_report_is_rejected(payload: dict[str, object]) -> None:
    """Missing batch_id, a bad `at` or a missing code can never succeed: Reject."""
    with pytest.raises(Reject):
        recipient_report("recipient_delivery_report_sms", payload)


def test_batch_report_counts_and_final_count() -> None:
    """A batch report keeps each status count; final_count ignores Queued/Dispatched."""
    b = batch_report(
        "delivery_report_sms",
        {
            "batch_id": "B",
            "total_message_count": 5,
            "statuses": [
                {"code": 0, "status": "Delivered", "count": 3},
                {"code": "401", "status": "Dispatched", "count": 2},
            ],
        },
    )
    assert (b.total_message_count, b.final_count, len(b.counts)) == (5, 3, 2)


@pytest.mark.parametrize(
    ("text", "opted_out"),
    [
        ("STOP", True), ("stop", True), ("  Stop \n", True), ("S T O P", True),
        ("stopall", True), ("Unsubscribe", True), ("cancel", True), ("END", True),
        ("quit", True), ("start", False), (" UNSTOP ", False),
    ],
)  # fmt: skip
def test_keywords_are_case_and_whitespace_insensitive(text: str, opted_out: bool) -> None:
    """The whole message being one keyword, in any case or spacing, is an opt change."""
    change = opt_change(text)
    assert change is not None
    assert change.opted_out is opted_out


@pytest.mark.parametrize("text", ["", "STOP please", "stopping", "don't stop", "STARTS"])
def test_other_text_is_not_a_keyword(text: str) -> None:
    """A keyword inside a longer message does not opt anybody out."""
    assert opt_change(text) is None


def test_inbound_kinds_are_stored_with_raw_payload() -> None:
    """mo_text, mo_binary and mo_media all become messages; a keyword-only text opts out."""
    import orjson

    for kind in ("mo_text", "mo_binary", "mo_media"):
        raw = BODIES[kind]
        m = inbound_message(kind, orjson.loads(raw), raw)
        assert (m.type, m.sender, m.to, m.payload.encode()) == (kind, "46701234567", "12345", raw)
        assert m.opt is None
    stop = inbound_message("mo_text", {**orjson.loads(BODIES["mo_text"]), "body": "Stop"}, b"")
    assert stop.opt is not None
    assert stop.opt.opted_out


def test_a_keyword_as_the_text_of_an_mms_opts_out_but_binary_never_does() -> None:
    """STOP sent as an MMS counts; a binary body is bytes, not words."""
    import orjson

    mms = orjson.loads(BODIES["mo_media"])
    mms["body"] = {**mms["body"], "message": " stop "}
    opt = inbound_message("mo_media", mms, b"").opt
    assert opt is not None
    assert opt.opted_out
    binary = {**orjson.loads(BODIES["mo_binary"]), "body": "STOP"}
    assert inbound_message("mo_binary", binary, b"").opt is None


def test_empty_text_body_is_valid() -> None:
    """Sinch allows a zero-length MO body."""
    assert inbound_message("mo_text", {"id": "i", "from": "1", "to": "2", "body": "",
                                       "received_at": T1}, b"").body == ""  # fmt: skip


@pytest.mark.parametrize("body", [b"\xff\xfe", b"[1,2]", b'{"no":"type"}', b"not json"])
def test_undecodable_bodies_are_rejected(body: bytes) -> None:
    """Anything that is not a JSON object with a type goes to the DLQ, never loops."""
    with pytest.raises(Reject):
        open_envelope(body, None, {})


async def test_handlers_reject_types_of_the_other_channel() -> None:
    """A type the worker does not handle is rejected, not retried."""
    mo = open_envelope(BODIES["mo_text"], None, {})
    dr = open_envelope(BODIES["delivery_report_sms"], None, {})
    with pytest.raises(Reject):
        await DeliveryReportHandler().handle(mo)
    with pytest.raises(Reject):
        await InboundHandler().handle(dr)


def test_dedup_key_prefers_header_and_falls_back_to_body_hash() -> None:
    """The relay's key wins; without it, the same bytes always give the same key."""
    assert dedup_key({"x-dedup-key": "abc"}, "mo_text", b"{}") == "abc"
    assert dedup_key({}, "mo_text", b"{}") == dedup_key({}, "mo_text", b"{}")
    assert dedup_key({}, "mo_text", b"{}") != dedup_key({}, "mo_text", b"{ }")


def test_envelope_reads_attempt_header() -> None:
    """The attempt number comes from `x-attempt`, 1 when absent or malformed."""
    env: Envelope = open_envelope(BODIES["mo_text"], None, {"x-attempt": 3})
    assert env.attempt == 3
    assert open_envelope(BODIES["mo_text"], None, {"x-attempt": "x"}).attempt == 1


def test_retry_policy_grows_delays_then_dead_letters() -> None:
    """Each failure waits longer; the last allowed attempt goes to the DLQ with a reason."""
    policy = RetryPolicy(delays=(1.0, 5.0, 30.0), max_attempts=4)
    assert policy.after_failure(1, "x", None) == RetryLater(1.0, 2)
    assert policy.after_failure(2, "x", None) == RetryLater(5.0, 3)
    assert policy.after_failure(3, "x", None) == RetryLater(30.0, 4)
    outcome = policy.after_failure(4, "boom", None)
    assert isinstance(outcome, DeadLetter)
    assert "boom" in outcome.reason


def test_requested_delay_rounds_up_to_a_retry_queue() -> None:
    """Retry(delay) picks the smallest configured delay that is long enough."""
    policy = RetryPolicy(delays=(1.0, 5.0, 30.0), max_attempts=9)
    assert policy.after_failure(1, "x", 2.0) == RetryLater(5.0, 2)
    assert policy.after_failure(1, "x", 999.0) == RetryLater(30.0, 2)


def test_settings_from_environment() -> None:
    """CONSUMER_* variables override per-kind defaults; a bad value names its variable."""
    s = load_settings(WorkerKind.INBOUND, {"CONSUMER_PREFETCH": "64",
                                           "CONSUMER_BINDING_KEYS": "mo_text"})  # fmt: skip
    assert (s.prefetch, s.binding_keys, s.queue) == (64, ("mo_text",), "sinch.consumers.inbound")
    assert "secret" not in repr(load_settings(WorkerKind.INBOUND, {
        "CONSUMER_STORE_URL": "postgresql://u:secret@h/db"}))  # fmt: skip
    with pytest.raises(ConfigError, match="CONSUMER_PREFETCH"):
        load_settings(WorkerKind.INBOUND, {"CONSUMER_PREFETCH": "many"})


async def test_batcher_groups_in_order_and_ends_after_the_buffer() -> None:
    """Batches keep arrival order, never exceed the size, and end only after the rest."""
    from consumers.batches import Batcher

    batcher: Batcher[int] = Batcher(size=3, wait=0.0)
    for n in range(5):
        batcher.put(n)
    batcher.end()
    assert [await batcher.next(), await batcher.next(), await batcher.next()] == [
        [0, 1, 2],
        [3, 4],
        None,
    ]
