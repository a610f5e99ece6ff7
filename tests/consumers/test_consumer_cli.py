"""The read-back commands print tables from the store."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import orjson
import pytest

from consumers.amqp import dlq
from consumers.cli import main, print_opt_outs, print_status
from consumers.config import WorkerKind, defaults_for
from consumers.handlers.delivery_reports import recipient_report
from consumers.handlers.inbound import inbound_message
from consumers.model import Keyed
from consumers.store.sqlite import SqliteStore
from relay.config import Secret
from tests.consumers.fakes import TYPE, FakeMessage
from tests.payloads import BODIES


async def test_status_and_opt_outs_tables(tmp_path: Path) -> None:
    """`status BATCH_ID` lists each recipient's status; `opt-outs` lists opted-out senders."""
    path = tmp_path / "cli.sqlite3"
    store = SqliteStore(str(path))
    await store.open()
    report = recipient_report("recipient_delivery_report_sms", orjson.loads(BODIES[
        "recipient_delivery_report_sms"]))  # fmt: skip
    stop = {"id": "m", "from": "46701234567", "to": "12345", "body": "STOP",
            "received_at": "2025-01-13T09:22:40Z"}  # fmt: skip
    await store.apply("q", [Keyed("a", report), Keyed("b", inbound_message("mo_text", stop, b""))])
    await store.close()
    settings = dataclasses.replace(
        defaults_for(WorkerKind.DELIVERY_REPORTS), store_url=Secret(f"sqlite:///{path}")
    )
    out = io.StringIO()
    assert await print_status(settings, report.batch_id, out) == 0
    assert "33662162466  Delivered  0     2025-01-13T09:22:40.914Z" in out.getvalue()
    assert await print_status(settings, "unknown-batch", io.StringIO()) == 1
    out = io.StringIO()
    assert await print_opt_outs(settings, None, out) == 0
    assert "46701234567  12345       STOP" in out.getvalue()


def test_main_rejects_unknown_commands_and_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input stops with a message naming the variable and exit code 2, not a traceback."""
    with pytest.raises(SystemExit):
        main(["frobnicate"], {})
    assert main(["inbound"], {"CONSUMER_PREFETCH": "0"}) == 2
    assert "CONSUMER_PREFETCH" in capsys.readouterr().err


def test_a_dead_letter_is_described_by_its_sinch_ids() -> None:
    """The DLQ listing reads `id` / `batch_id` from the body; poison bodies give blanks."""
    inbound = FakeMessage(1, BODIES["mo_text"], type=None, message_id="relay-1")
    report = FakeMessage(2, BODIES["delivery_report_sms"], headers={"x-attempt": 3})
    poison = FakeMessage(3, b"\x00not json", headers={"x-dead-letter-reason": "undecodable"})
    mo, dr = orjson.loads(BODIES["mo_text"]), orjson.loads(BODIES["delivery_report_sms"])
    described = [dlq.describe(m) for m in (inbound, report, poison)]
    assert [(d.type, d.sinch_id, d.batch_id) for d in described] == [
        ("mo_text", mo["id"], ""),
        (TYPE, "", dr["batch_id"]),
        (TYPE, "", ""),
    ]
    assert [(d.message_id, d.attempts, d.reason) for d in described[::2]] == [
        ("relay-1", 1, "broker: unknown"), ("", 1, "undecodable"),
    ]  # fmt: skip
