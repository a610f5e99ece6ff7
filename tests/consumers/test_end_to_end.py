"""Relay -> exchange -> worker -> store, for every Sinch callback type."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from consumers.config import WorkerKind, WorkerSettings
from consumers.store.sqlite import SqliteStore
from relay.config import TopologySettings
from relay.contract.routing import ROUTES, Flow
from tests.consumers.conftest import SettingsFactory, counts, running, wait_until
from tests.payloads import BODIES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
Client = TestClient[Any, Any]


def worker_for(make: SettingsFactory, names: TopologySettings, event_type: str) -> WorkerSettings:
    if ROUTES[event_type] is Flow.DELIVERY_REPORTS:
        kind, exchange = WorkerKind.DELIVERY_REPORTS, names.delivery_reports
    else:
        kind, exchange = WorkerKind.INBOUND, names.inbound
    return make(kind=kind, exchange=exchange, unrouted_exchange=names.unrouted)


async def stored(store: SqliteStore, event_type: str, body: bytes) -> bool:
    """Whether the effect of callback `body` is visible in the store."""
    p = orjson.loads(body)
    if event_type.startswith("recipient_"):
        rows = await store.recipient_statuses(p["batch_id"])
        return [(r.recipient, r.status) for r in rows] == [(p["recipient"], p["status"])]
    if event_type.startswith("delivery_report"):
        report = await store.batch_report(p["batch_id"])
        return report is not None and report.total_message_count == p["total_message_count"]
    message = await store.inbound_message(p["id"])
    return message is not None and message.payload.encode() == body


@pytest.mark.parametrize("event_type", sorted(ROUTES))
async def test_each_type_reaches_the_store_once(
    relay: Client,
    names: TopologySettings,
    make_settings: SettingsFactory,
    sqlite_store: SqliteStore,
    event_type: str,
) -> None:
    """A callback POSTed twice (a Sinch retry) is stored, and applied only once."""
    settings = worker_for(make_settings, names, event_type)
    body = BODIES[event_type]
    async with running(settings, sqlite_store) as worker:
        for _ in range(2):
            assert (await relay.post("/sms", data=body)).status == 200
        await wait_until(lambda: _done(sum(counts(worker, "applied", "duplicate")), 2))
    assert await stored(sqlite_store, event_type, body)
    assert counts(worker, "applied", "duplicate") == (1, 1)


async def test_stop_then_start_through_the_relay(
    relay: Client,
    names: TopologySettings,
    make_settings: SettingsFactory,
    sqlite_store: SqliteStore,
) -> None:
    """An MO 'stop' opts the sender out of our number; a later 'Start' opts back in."""
    settings = worker_for(make_settings, names, "mo_text")
    base = {"type": "mo_text", "from": "46700000001", "to": "12345"}
    stop = base | {"id": "m1", "body": " stop ", "received_at": "2025-01-13T09:00:00Z"}
    start = base | {"id": "m2", "body": "Start", "received_at": "2025-01-13T09:05:00Z"}
    with capture_logs() as logs:
        async with running(settings, sqlite_store) as worker:
            assert (await relay.post("/sms", data=orjson.dumps(stop))).status == 200
            await wait_until(lambda: sqlite_store.is_opted_out("46700000001", "12345"))
            assert (await relay.post("/sms", data=orjson.dumps(start))).status == 200
            await wait_until(lambda: _done(worker.metrics.total("applied"), 2))
    assert not await sqlite_store.is_opted_out("46700000001", "12345")
    changes = [e for e in logs if e["event"] == "inbound.opt_change"]
    assert [(e["opted_out"], e["sender"]) for e in changes] == [(True, "********001"),
                                                                (False, "********001")]  # fmt: skip
    assert "46700000001" not in repr(logs)


async def _done(value: int, expected: int) -> bool:
    return value >= expected
