"""Scenario 6, end to end: relay -> broker -> consumer workers -> store, workers SIGKILLed.

Both sample workers (`python -m consumers inbound|delivery-reports`, SQLite stores) are
SIGKILLed mid-stream and started again. Every callback the relay answered 2xx must end
up applied in a store exactly once (unknown types: in the unrouted queue); redeliveries
the stores recognised as duplicates are counted, not failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aio_pika
import orjson
import pytest

from consumers.amqp import topology
from consumers.config import WorkerKind, load_settings
from tests.faults.checker import Report, Sent, drain, judge
from tests.faults.harness import Names, Scenario
from tests.support.relay_process import RelayProcess

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

# worker kind -> (which exchange it reads, the query listing every applied id)
KINDS = {
    "inbound": ("inbound", "SELECT id FROM inbound_message"),
    "delivery-reports": ("delivery_reports", "SELECT batch_id FROM recipient_status"),
}


class Workers:
    """One process per worker kind, each with its own queue and SQLite store."""

    def __init__(self, amqp_url: str, names: Names, folder: Path) -> None:
        self._folder = folder
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("CONSUMER_")}
        self._env |= {"CONSUMER_AMQP_URL": amqp_url, "CONSUMER_LOG_FORMAT": "json"}
        # batches wait up to 0.2 s: a SIGKILL always finds deliveries taken but not acked
        self._env |= {"CONSUMER_BATCH_WAIT": "0.2", "CONSUMER_BATCH_SIZE": "64"}
        self._env["CONSUMER_UNROUTED_EXCHANGE"] = names.topology.unrouted
        self._names = names
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def queue(self, kind: str) -> str:
        return f"faults.{self._names.run_id}.{kind}"

    def store(self, kind: str) -> Path:
        return self._folder / f"{kind}.sqlite3"

    def start(self) -> None:
        for kind, (attr, _) in KINDS.items():
            env = self._env | {
                "CONSUMER_QUEUE": self.queue(kind),
                "CONSUMER_EXCHANGE": getattr(self._names.topology, attr),
                "CONSUMER_STORE_URL": f"sqlite:///{self.store(kind)}",
            }
            with (self._folder / f"{kind}.log").open("ab") as log:
                self.processes[kind] = subprocess.Popen(
                    [sys.executable, "-m", "consumers", kind],
                    env=env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip

    def kill(self) -> None:
        for process in self.processes.values():
            process.kill()
            process.wait(10)

    def stop(self) -> int:
        """SIGTERM every worker; return the duplicates their summaries counted."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            assert process.wait(30) == 0
        return sum(self._duplicates(kind) for kind in KINDS)

    def applied(self) -> list[str]:
        """Every id applied in either store (a row per id, as often as it is stored)."""
        found: list[str] = []
        for kind, (_, query) in KINDS.items():
            if self.store(kind).exists():
                with sqlite3.connect(self.store(kind)) as db:
                    found += [row[0] for row in db.execute(query)]
        return found

    def _duplicates(self, kind: str) -> int:
        lines = (self._folder / f"{kind}.log").read_bytes().splitlines()
        events = [orjson.loads(line) for line in lines if line.startswith(b"{")]
        return sum(e.get("duplicate", 0) for e in events if e.get("event") == "worker.stopped")


@pytest.fixture
def workers(amqp_url: str, shared_names: Names, tmp_path: Path) -> Iterator[Workers]:
    made = Workers(amqp_url, shared_names, tmp_path)
    yield made
    for process in made.processes.values():
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def consumed_by(amqp_url: str, queues: list[str], within: float = 30.0) -> None:
    """Wait until every queue exists and has a consumer."""
    deadline = time.monotonic() + within
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        for name in queues:
            while True:
                channel = await connection.channel()
                try:
                    queue = await channel.declare_queue(name, passive=True)
                    if queue.declaration_result.consumer_count:
                        break
                except aio_pika.exceptions.ChannelClosed:
                    pass
                assert time.monotonic() < deadline, f"no consumer on {name}"
                await asyncio.sleep(0.2)


async def applied_all(workers: Workers, sent: list[Sent], within: float = 30.0) -> None:
    """Wait until every acknowledged routable callback is in a store (bounded)."""
    wanted = {s.uid for s in sent if s.accepted and not s.uid.endswith("9")}
    deadline = time.monotonic() + within
    while not wanted <= set(await asyncio.to_thread(workers.applied)):
        if time.monotonic() > deadline:
            return  # the checker reports what is missing
        await asyncio.sleep(0.25)


async def test_consumers_sigkilled_mid_stream_apply_every_acked_callback_once(
    amqp_url: str,
    shared_names: Names,
    relays: Callable[..., RelayProcess],
    workers: Workers,
    record: Callable[[Report], Report],
) -> None:
    """Both workers SIGKILLed mid-load and restarted: every 2xx is in a store exactly once."""
    relay = relays({"RELAY_AMQP_URL": amqp_url, **shared_names.env()})
    await relay.start()
    workers.start()
    try:
        await consumed_by(amqp_url, [workers.queue(k) for k in KINDS])
        scenario = Scenario("6. consumers SIGKILLed (end to end)", relay.url, shared_names)

        async def fault() -> None:
            workers.kill()
            await asyncio.sleep(1)
            workers.start()

        sent = await scenario.run(fault)
        await applied_all(workers, sent)
        duplicates = workers.stop()
        found = workers.applied() + await drain(amqp_url, [shared_names.topology.unrouted])
    finally:
        await delete_worker_queues(amqp_url, workers)
    report = judge(scenario.name, sent, found, scenario.fault_end)
    assert report.duplicated == 0, "a store applied the same callback twice"
    report = record(dataclasses.replace(report, duplicated=duplicates))
    report.check()
    assert not report.refused, report.refused  # the relay itself was never disturbed


async def delete_worker_queues(amqp_url: str, workers: Workers) -> None:
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        for kind in KINDS:
            env = {"CONSUMER_QUEUE": workers.queue(kind), "CONSUMER_EXCHANGE": "x"}
            await topology.delete(channel, load_settings(WorkerKind(kind), env))
