"""One contract, two stores: SQLite and PostgreSQL apply effects exactly once and monotonically."""

from __future__ import annotations

import orjson

from consumers.handlers.delivery_reports import batch_report, recipient_report
from consumers.handlers.inbound import inbound_message
from consumers.model import Keyed
from consumers.store import Store
from consumers.store.protocol import OptState
from tests.payloads import BODIES

T1, T2, T3 = "2025-01-13T09:00:00Z", "2025-01-13T09:00:01Z", "2025-01-13T09:00:02Z"


def status(key: str, value: str, at: str, recipient: str = "4670000001") -> Keyed:
    payload = {"batch_id": "B1", "recipient": recipient, "status": value, "code": 0, "at": at}
    return Keyed(key, recipient_report("recipient_delivery_report_sms", payload))


def mo(key: str, msg_id: str, text: str, at: str) -> Keyed:
    payload = {"id": msg_id, "from": "46701234567", "to": "12345", "body": text, "received_at": at}
    return Keyed(key, inbound_message("mo_text", payload, orjson.dumps(payload)))


async def current(store: Store, recipient: str = "4670000001") -> str:
    rows = {r.recipient: r.status for r in await store.recipient_statuses("B1")}
    return rows[recipient]


async def test_apply_reports_which_items_were_new(store: Store) -> None:
    """A key seen before (in an earlier batch or earlier in this one) is not applied again."""
    assert await store.apply("q", [status("k1", "Queued", T1), status("k1", "Queued", T1)]) == [
        True,
        False,
    ]
    assert await store.apply("q", [status("k1", "Queued", T1), status("k2", "Delivered", T2)]) == [
        False,
        True,
    ]


async def test_dedup_keys_are_per_consumer(store: Store) -> None:
    """Two different queues (consumers) each apply the same callback once."""
    assert await store.apply("a", [status("k", "Queued", T1)]) == [True]
    assert await store.apply("b", [status("k", "Queued", T1)]) == [True]


async def test_final_status_survives_late_intermediate(store: Store) -> None:
    """Delivered, then a late Dispatched with a later `at`: Delivered stays."""
    await store.apply("q", [status("k1", "Delivered", T1)])
    await store.apply("q", [status("k2", "Dispatched", T3)])
    assert await current(store) == "Delivered"


async def test_later_at_wins_within_a_kind_regardless_of_arrival(store: Store) -> None:
    """Reports of one kind arriving out of order end at the one with the latest `at`."""
    await store.apply("q", [status("k3", "Dispatched", T2), status("k1", "Queued", T1)])
    assert await current(store) == "Dispatched"
    await store.apply("q", [status("k4", "Failed", T3), status("k5", "Delivered", T2)])
    assert await current(store) == "Failed"


async def test_statuses_are_listed_per_batch(store: Store) -> None:
    """recipient_statuses returns one row per recipient of the batch, sorted."""
    await store.apply("q", [status("a", "Delivered", T1, "2"), status("b", "Queued", T1, "1")])
    rows = await store.recipient_statuses("B1")
    assert [(r.recipient, r.status, r.code) for r in rows] == [("1", "Queued", "0"),
                                                               ("2", "Delivered", "0")]  # fmt: skip
    assert await store.recipient_statuses("nope") == []


async def test_batch_report_counts_are_stored_and_not_regressed(store: Store) -> None:
    """The counts of the most complete batch report are kept."""
    full = batch_report("delivery_report_sms", orjson.loads(BODIES["delivery_report_sms"]))
    partial = batch_report(
        "delivery_report_sms",
        {"batch_id": full.batch_id, "total_message_count": 2,
         "statuses": [{"code": 401, "status": "Dispatched", "count": 2}]},
    )  # fmt: skip
    await store.apply("q", [Keyed("full", full), Keyed("partial", partial)])
    assert await store.batch_report(full.batch_id) == full
    assert await store.batch_report("missing") is None


async def test_inbound_messages_round_trip_by_id(store: Store) -> None:
    """All three MO kinds are stored by id and read back unchanged."""
    for kind in ("mo_text", "mo_binary", "mo_media"):
        raw = BODIES[kind]
        message = inbound_message(kind, orjson.loads(raw), raw)
        assert await store.apply("q", [Keyed(kind, message)]) == [True]
        assert await store.inbound_message(message.id) == dataclass_without_opt(message)


def dataclass_without_opt(message: object) -> object:
    import dataclasses

    return dataclasses.replace(message, opt=None)  # type: ignore[type-var]


async def test_opt_out_list_follows_the_latest_keyword(store: Store) -> None:
    """STOP opts out, START opts back in; an older STOP arriving late changes nothing."""
    await store.apply("q", [mo("1", "m1", "STOP", T1)])
    assert await store.is_opted_out("46701234567", "12345")
    assert [(o.sender, o.our_number, o.keyword) for o in await store.opt_outs()] == [
        ("46701234567", "12345", "STOP")
    ]
    await store.apply("q", [mo("3", "m3", "start", T3), mo("2", "m2", "quit", T2)])
    assert not await store.is_opted_out("46701234567", "12345")
    assert await store.opt_outs("12345") == []


async def test_opt_out_is_per_pair_of_numbers(store: Store) -> None:
    """Opting out of one of our numbers leaves the others alone."""
    await store.apply("q", [mo("1", "m1", "stop", T1)])
    assert not await store.is_opted_out("46701234567", "99999")
    assert await store.opt_outs("99999") == []


async def test_failed_batch_applies_nothing(store: Store) -> None:
    """A batch that raises leaves neither effects nor dedup keys behind."""

    class Broken:
        key = "bad"
        effect = object()

    try:
        await store.apply("q", [status("good", "Delivered", T1), Broken()])  # type: ignore[list-item]
    except Exception:
        pass
    else:
        raise AssertionError("a broken effect must fail the batch")
    assert await store.recipient_statuses("B1") == []
    assert await store.apply("q", [status("good", "Delivered", T1)]) == [True]


async def test_opt_state_is_the_change_the_list_kept(store: Store) -> None:
    """After a START and a late STOP, the list holds the START (its keyword and message id)."""
    await store.apply("q", [mo("3", "m3", "start", T3), mo("1", "m1", "stop", T1)])
    state = await store.opt_state("46701234567", "12345")
    assert state == OptState(opted_out=False, keyword="START", message_id="m3")
    assert await store.opt_state("46701234567", "99999") is None
