"""Starting a worker: no broker, a refusing broker, a bad store, a busy port: each says why."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import orjson
import pytest
from structlog.testing import capture_logs

from consumers.cli import handler_for
from consumers.config import WorkerKind
from consumers.metrics import Metrics
from consumers.store.sqlite import SqliteStore
from consumers.worker import Worker
from relay.config import Secret
from tests.consumers.conftest import SettingsFactory, wait_until
from tests.support.ports import free_port

pytestmark = pytest.mark.timeout(60)


def consumer_env(**settings: str) -> dict[str, str]:
    """This process's environment without CONSUMER_* / RELAY_* settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSUMER_", "RELAY_"))}
    env |= {"CONSUMER_LOG_FORMAT": "json", "PYTHONPATH": os.getcwd()}
    return env | {f"CONSUMER_{k.upper()}": v for k, v in settings.items()}


def consumer(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m consumers ARGS` to its end (commands that fail or finish at once)."""
    return subprocess.run(
        [sys.executable, "-m", "consumers", *args],
        env=consumer_env(**settings),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def one_line_exit_2(result: subprocess.CompletedProcess[str], variable: str) -> str:
    """The single stderr line of a configuration error naming `variable`."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error: ")
    assert f"({variable})" in lines[0]
    return lines[0]


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """An inbound worker process writing everything to `log`."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "consumers", "inbound"], env=env, stdout=sink, stderr=sink
        )


def json_lines(log: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines() if line.startswith(b"{")]


async def test_without_a_broker_the_worker_retries_one_warning_each_and_is_not_healthy(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """No broker on the port: `amqp.connect_failed` per attempt, /healthz 503, SIGTERM exits 0."""
    http_port, log = free_port(), tmp_path / "worker.log"
    env = consumer_env(
        amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/",
        store_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        http_port=str(http_port),
        reconnect_interval="0.05",
        max_reconnect_interval="0.1",
    )
    processes.append(spawn(env, log))
    await wait_until(lambda: _attempts(log, 3))
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"http://127.0.0.1:{http_port}/healthz")
        assert (response.status, await response.json()) == (503, {"ok": False})
    processes[0].send_signal(signal.SIGTERM)
    assert processes[0].wait(timeout=20) == 0
    text = log.read_text()
    assert "Traceback" not in text
    events = json_lines(log)
    failed = [e for e in events if e["event"] == "amqp.connect_failed"]
    assert all(e["level"] == "warning" and "refused" in e["error"].lower() for e in failed), failed
    others = [e for e in events if e["event"] != "amqp.connect_failed"]
    assert [e["event"] for e in others] == ["store.opened", "worker.stopped"]
    assert others[0]["store"] == str(tmp_path / "store.sqlite3")


async def _attempts(log: Path, n: int) -> bool:
    return sum(bool(e["event"] == "amqp.connect_failed") for e in json_lines(log)) >= n


def with_credentials(amqp_url: str, password: str, vhost: str = "") -> str:
    parts = urlsplit(amqp_url)
    netloc = f"{parts.username or 'guest'}:{password}@{parts.hostname}:{parts.port or 5672}"
    return urlunsplit((parts.scheme, netloc, f"/{vhost}", "", ""))


@pytest.mark.parametrize(
    ("password", "vhost", "reply"),
    [
        ("wrong-secret", "", "ACCESS_REFUSED - Login was refused"),
        (None, "nosuchvhost", "NOT_ALLOWED - vhost nosuchvhost not found"),
    ],
)
async def test_a_refusing_broker_is_quoted_and_the_worker_keeps_trying(
    make_settings: SettingsFactory,
    sqlite_store: SqliteStore,
    amqp_url: str,
    password: str | None,
    vhost: str,
    reply: str,
) -> None:
    """Wrong password or unknown vhost: the broker's words on every attempt; never healthy."""
    url = with_credentials(amqp_url, password or urlsplit(amqp_url).password or "guest", vhost)
    settings = dataclasses.replace(
        make_settings(kind=WorkerKind.INBOUND), amqp_url=Secret(url), reconnect_interval=0.02,
        max_reconnect_interval=0.05,
    )  # fmt: skip
    worker = Worker(settings, handler_for(settings.kind), sqlite_store, Metrics(settings.queue))
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(worker.run(stop))
        await wait_until(lambda: _logged(logs, "amqp.connect_failed", 3))
        assert not worker.healthy
        stop.set()
        await asyncio.wait_for(task, 10)
    failed = [e for e in logs if e["event"] == "amqp.connect_failed"]
    assert all(e["error"].startswith(reply) for e in failed), failed
    assert "wrong-secret" not in repr(logs)


async def _logged(logs: Sequence[Mapping[str, Any]], event: str, n: int) -> bool:
    return sum(bool(e["event"] == event) for e in logs) >= n


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u:pw@db/x", "unknown scheme 'mysql'"),
        ("consumers.sqlite3", "not a URL with a scheme"),
        ("sqlite:////nonexistent-dir/x/store.sqlite3", "no directory /nonexistent-dir/x"),
    ],
)
def test_a_bad_store_url_is_one_line_naming_the_setting(url: str, says: str) -> None:
    """Unknown scheme, no scheme, missing directory: exit 2, one line, no traceback."""
    line = one_line_exit_2(consumer("inbound", store_url=url), "CONSUMER_STORE_URL")
    assert says in line
    assert "pw" not in line


def test_an_unknown_database_is_one_line_without_the_password(postgres_url: str) -> None:
    """PostgreSQL's own words for a database that does not exist; the password is not shown."""
    parts = urlsplit(postgres_url)
    netloc = f"{parts.username or 'postgres'}:hidden-pw@{parts.hostname}:{parts.port or 5432}"
    url = urlunsplit((parts.scheme, netloc, "/no_such_database_here", "", ""))
    line = one_line_exit_2(consumer("inbound", store_url=url), "CONSUMER_STORE_URL")
    assert 'database "no_such_database_here" does not exist' in line
    assert f"postgresql://{parts.hostname}:{parts.port or 5432}/no_such_database_here" in line
    assert "hidden-pw" not in line


def test_a_busy_metrics_port_is_one_line_naming_the_port(tmp_path: Path) -> None:
    """Something already listens on CONSUMER_HTTP_PORT: exit 2 before touching the broker."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = consumer(
            "inbound", http_port=str(port), store_url=f"sqlite:///{tmp_path / 's.sqlite3'}",
            amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/",
        )  # fmt: skip
    line = one_line_exit_2(result, "CONSUMER_HTTP_PORT")
    assert line.endswith(f"cannot listen on 127.0.0.1:{port}: Address already in use")
    assert "amqp.connect_failed" not in result.stdout


@pytest.mark.parametrize("command", [["status", "B1"], ["opt-outs"]])
def test_read_only_commands_never_create_a_store(tmp_path: Path, command: list[str]) -> None:
    """`status` / `opt-outs` on a path with no store: 'no store at PATH', exit 1, no file made."""
    path = tmp_path / "never.sqlite3"
    result = consumer(*command, store_url=f"sqlite:///{path}")
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"no store at {path}: a worker creates it")
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_health_without_a_broker_is_one_unhealthy_line() -> None:
    """`health` while no broker answers: exit 1 and the reason, as the worker logs it."""
    result = consumer("health", "inbound", amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    assert result.returncode == 1
    verdict = result.stdout.splitlines()[-1]  # after aiormq's own log line, if any
    assert verdict.startswith("unhealthy: broker: ")
    assert "refused" in verdict.lower()
    assert "Traceback" not in result.stdout + result.stderr
