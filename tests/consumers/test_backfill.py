"""`relay backfill` into running sample consumers: what they have stays, the gaps fill."""

from __future__ import annotations

import dataclasses
import datetime
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from consumers.config import WorkerKind
from consumers.store.sqlite import SqliteStore
from relay.cli import backfill as backfill_cli
from relay.config import Secret, SinchSettings, TopologySettings
from relay.recovery.backfill import Plan
from relay.recovery.window import Window
from tests.consumers.conftest import SettingsFactory, counts, running, wait_until
from tests.integration.conftest import relay_settings
from tests.support.fake_sinch import FakeSinch
from tests.support.fake_sinch import running as sinch_running

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
Client = TestClient[Any, Any]
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
TABLES = ("inbound_message", "recipient_status", "batch_report", "opt_out")


def at(minutes_ago: int) -> str:
    return (NOW - datetime.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def mo(n: int) -> dict[str, Any]:
    return {"type": "mo_text", "id": f"mo-{n}", "from": f"4670000000{n}", "to": "12345",
            "body": f"hello {n}", "received_at": at(10 * n)}  # fmt: skip


def report(n: int) -> dict[str, Any]:
    return {"type": "recipient_delivery_report_sms", "batch_id": "B1", "code": 0,
            "recipient": f"4670000000{n}", "status": "Delivered", "at": at(10 * n)}  # fmt: skip


def as_posted(item: dict[str, Any]) -> bytes:
    """The callback Sinch posted for `item`: other key order, other bytes."""
    return orjson.dumps(dict(sorted(item.items())))


def rows(path: Path) -> dict[str, set[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        return {t: set(db.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


async def test_backfill_leaves_what_consumers_have_and_fills_the_gaps(
    relay: Client,
    amqp_url: str,
    names: TopologySettings,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> None:
    """Sinch lists 3 MOs and 2 reports, the relay delivered 2 and 1: the store keeps every
    row it had unchanged, gains exactly the 3 missing, and each worker counts duplicates."""
    inbound = make_settings(WorkerKind.INBOUND, exchange=names.inbound,
                            unrouted_exchange=names.unrouted)  # fmt: skip
    reports = make_settings(WorkerKind.DELIVERY_REPORTS, exchange=names.delivery_reports,
                            unrouted_exchange=names.unrouted)  # fmt: skip
    paths = tmp_path / "inbound.sqlite3", tmp_path / "reports.sqlite3"
    stores = SqliteStore(str(paths[0])), SqliteStore(str(paths[1]))
    for store in stores:
        await store.open()
    async with (
        running(inbound, stores[0]) as mo_worker,
        running(reports, stores[1]) as dr_worker,
        sinch_running(FakeSinch("plan", "token")) as sinch,
    ):
        for item in (mo(1), mo(2), report(1)):
            assert (await relay.post("/sms", data=as_posted(item))).status == 200
        await wait_until(lambda: _reached(mo_worker, 2, dr_worker, 1))
        before = [rows(p) for p in paths]
        sinch.items = {
            "inbounds": [mo(1), mo(2), mo(3)],
            "delivery_reports": [report(1), report(2)],
        }
        settings = dataclasses.replace(
            relay_settings(amqp_url, names),
            sinch=SinchSettings(
                api_url=sinch.url, service_plan_id="plan", api_token=Secret("token")
            ),
        )
        window = Window(NOW - datetime.timedelta(hours=1), NOW)
        plan = Plan(window, ("inbounds", "delivery_reports"), dry_run=False)
        published = await backfill_cli.command(settings, plan)
        await wait_until(lambda: _reached(mo_worker, 5, dr_worker, 3))
    for store in stores:
        await store.close()
    after = [rows(p) for p in paths]
    assert published == {"mo_text": 3, "recipient_delivery_report_sms": 2}
    assert counts(mo_worker, "applied", "duplicate") == (3, 2)
    assert counts(dr_worker, "applied", "duplicate") == (2, 1)
    for had, has in zip(before, after, strict=True):
        for table in TABLES:
            assert had[table] <= has[table]  # every row it had, unchanged
    assert {r[0] for r in after[0]["inbound_message"] - before[0]["inbound_message"]} == {"mo-3"}
    added = after[1]["recipient_status"] - before[1]["recipient_status"]
    assert [r[1] for r in added] == ["46700000002"]


async def _reached(mo_worker: Any, mo_seen: int, dr_worker: Any, dr_seen: int) -> bool:
    return (
        sum(counts(mo_worker, "applied", "duplicate")) >= mo_seen
        and sum(counts(dr_worker, "applied", "duplicate")) >= dr_seen
    )
