"""The read-back commands print tables from the store."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import orjson
import pytest

from consumers.cli import main, print_opt_outs, print_status
from consumers.config import WorkerKind, defaults_for
from consumers.handlers.delivery_reports import recipient_report
from consumers.handlers.inbound import inbound_message
from consumers.model import Keyed
from consumers.store.sqlite import SqliteStore
from relay.config import Secret
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
