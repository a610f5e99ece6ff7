"""Workers as real processes: SIGKILL mid-stream loses nothing, two processes share a queue."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from consumers.config import WorkerSettings
from tests.consumers.conftest import (
    SettingsFactory,
    declare,
    publish,
    queue_depth,
    recipient_body,
    sinch_message,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]
TYPE = "recipient_delivery_report_sms"


def worker_env(settings: WorkerSettings, store_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSUMER_")}
    env |= {
        "CONSUMER_AMQP_URL": settings.amqp_url.reveal(),
        "CONSUMER_QUEUE": settings.queue,
        "CONSUMER_EXCHANGE": settings.exchange,
        "CONSUMER_STORE_URL": store_url,
        "CONSUMER_RETRY_DELAYS": ",".join(map(str, settings.retry_delays)),
        "CONSUMER_LOG_FORMAT": "json",
    }
    return env | {f"CONSUMER_{k.upper()}": v for k, v in extra.items()}


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A worker process whose JSON log lines go to `log`."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "consumers", "delivery-reports"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def summary(process: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    """SIGTERM the worker and return its one-line `worker.stopped` summary."""
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    err = log.read_bytes()
    assert process.returncode == 0, err.decode()
    lines = [orjson.loads(line) for line in err.splitlines() if line.startswith(b"{")]
    stopped = [line for line in lines if line["event"] == "worker.stopped"]
    assert len(stopped) == 1, err.decode()
    result: dict[str, Any] = stopped[0]
    return result


def processed_in_sqlite(path: Path) -> int:
    with sqlite3.connect(path) as db:
        try:
            return int(db.execute("SELECT count(*) FROM processed").fetchone()[0])
        except sqlite3.OperationalError:  # the worker has not created the schema yet
            return 0


async def test_sigkill_mid_stream_then_restart_loses_and_doubles_nothing(
    make_settings: SettingsFactory, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """Kill -9 while consuming; the restarted worker applies exactly the uncommitted rest."""
    total = 3000
    settings = make_settings()
    db = tmp_path / "kill.sqlite3"
    env = worker_env(settings, f"sqlite:///{db}", prefetch="100", batch_size="20")
    await declare(settings)
    await publish(settings, [sinch_message(recipient_body(n), TYPE) for n in range(total)])
    processes.append(spawn(env, tmp_path / "killed.log"))
    await wait_until(lambda: _at_least(processed_in_sqlite(db), 300), timeout=30)
    processes[0].kill()
    processes[0].wait()
    committed = processed_in_sqlite(db)
    assert committed < total, "the kill came too late to be mid-stream"
    processes.append(spawn(env, tmp_path / "restarted.log"))
    await wait_until(lambda: _at_least(processed_in_sqlite(db), total), timeout=40)
    await wait_until(lambda: _at_least(_negated(queue_depth(settings, settings.queue)), 0))
    after = summary(processes[1], tmp_path / "restarted.log")
    assert after["applied"] == total - committed
    assert after["dead_lettered"] == after["retried"] == 0
    assert _statuses_in_sqlite(db) == total


async def test_two_processes_share_one_queue_without_loss_or_doubles(
    make_settings: SettingsFactory,
    postgres_url: str,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    """2,000 reports over two competing workers (PostgreSQL store): each applied exactly once."""
    total = 2000
    settings = make_settings()
    async with postgres_schema(postgres_url) as (store_url, admin):
        env = worker_env(settings, store_url, prefetch="64", batch_size="32")
        await declare(settings)
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        processes.extend(spawn(env, log) for log in logs)
        await wait_until(lambda: _consumers(settings, 2), timeout=20)
        started = time.monotonic()
        await publish(settings, [sinch_message(recipient_body(n), TYPE) for n in range(total)])
        await wait_until(lambda: _pg_count(admin, "processed", total), timeout=40)
        elapsed = time.monotonic() - started
        stored = await admin.fetchval("SELECT count(*) FROM recipient_status")
    tallies = [summary(p, log) for p, log in zip(processes, logs, strict=True)]
    print(f"two workers: {total} messages in {elapsed:.2f}s ({total / elapsed:.0f}/s)")
    assert stored == total
    assert sum(t["applied"] for t in tallies) == total
    assert all(t["applied"] > 0 for t in tallies), tallies
    assert sum(t["duplicate"] + t["retried"] + t["dead_lettered"] for t in tallies) == 0


async def test_single_worker_throughput_on_sqlite(
    make_settings: SettingsFactory, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """One worker process with the default SQLite store drains a backlog at >= 2,000 msg/s."""
    total = 10_000
    settings = make_settings()
    db = tmp_path / "bench.sqlite3"
    await declare(settings)
    await publish(settings, [sinch_message(recipient_body(n), TYPE) for n in range(total)])
    processes.append(spawn(worker_env(settings, f"sqlite:///{db}"), tmp_path / "bench.log"))
    await wait_until(lambda: _at_least(processed_in_sqlite(db), 500), timeout=20)
    started, base = time.monotonic(), processed_in_sqlite(db)
    await wait_until(lambda: _at_least(processed_in_sqlite(db), total), timeout=40)
    rate = (total - base) / (time.monotonic() - started)
    print(f"one worker, SQLite synchronous=FULL: {rate:.0f} msg/s")
    assert summary(processes[0], tmp_path / "bench.log")["applied"] == total
    assert rate >= 2000


def _statuses_in_sqlite(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM recipient_status").fetchone()[0])


async def _at_least(value: object, n: int) -> bool:
    resolved = await value if asyncio.iscoroutine(value) else value
    return int(resolved) >= n  # type: ignore[arg-type]


async def _negated(value: Any) -> int:
    return -int(await value)


async def _consumers(settings: WorkerSettings, n: int) -> bool:
    import aio_pika

    connection = await aio_pika.connect(settings.amqp_url.reveal())
    async with connection:
        try:
            queue = await (await connection.channel()).declare_queue(settings.queue, passive=True)
        except Exception:
            return False
        return queue.declaration_result.consumer_count == n


async def _pg_count(admin: Any, table: str, n: int) -> bool:
    try:
        return int(await admin.fetchval(f"SELECT count(*) FROM {table}")) >= n
    except asyncpg.UndefinedTableError:
        return False


class postgres_schema:
    """A fresh schema; yields (store URL pinned to it, admin connection using it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schema = f"test_{uuid.uuid4().hex[:12]}"

    async def __aenter__(self) -> tuple[str, Any]:
        self.admin = await asyncpg.connect(self.url, server_settings={"search_path": self.schema})
        await self.admin.execute(f"CREATE SCHEMA {self.schema}")
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}search_path={self.schema}", self.admin

    async def __aexit__(self, *_: object) -> None:
        await self.admin.execute(f"DROP SCHEMA {self.schema} CASCADE")
        await self.admin.close()
