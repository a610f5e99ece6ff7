"""Log lines: JSON through the tick-batched writer, phone numbers masked."""

from __future__ import annotations

import asyncio
import datetime
import io
import logging
import subprocess
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from unittest import mock

import orjson
import pytest
import structlog
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from relay.config import LoggingSettings, Settings
from relay.edge.app import create_app
from relay.telemetry.logs import (
    TickFlushedWriter,
    UtcTimestamper,
    configure,
    mask_phone,
    request_line,
    reset,
)
from tests.payloads import BODIES
from tests.support.fakes import FakePublisher


class CountingStream(io.BytesIO):
    """A binary stream that counts its writes (each would be a syscall unbuffered)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes += 1
        return super().write(data)


async def test_lines_of_one_tick_are_written_together_and_none_waits_longer() -> None:
    stream = CountingStream()
    writer = TickFlushedWriter(stream)
    for n in range(50):
        writer.msg(b'{"n":%d}' % n)
    assert stream.writes == 0
    await asyncio.sleep(0)
    assert stream.writes == 1
    assert [orjson.loads(line)["n"] for line in stream.getvalue().splitlines()] == list(range(50))


def test_outside_an_event_loop_a_line_is_written_at_once() -> None:
    stream = CountingStream()
    TickFlushedWriter(stream).msg(b'{"event":"relay.stopped"}')
    assert stream.getvalue() == b'{"event":"relay.stopped"}\n'


class Stdout(io.StringIO):
    """A text stdout whose binary side is inspectable, as sys.stdout.buffer would be."""

    def __init__(self) -> None:
        super().__init__()
        self.binary = CountingStream()

    @property
    def buffer(self) -> CountingStream:
        return self.binary

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(raw) for raw in self.binary.getvalue().splitlines()]


@pytest.fixture
def stdout() -> Iterator[Stdout]:
    out = Stdout()
    configure(LoggingSettings(format="json", level="info"), out)
    yield out
    reset()


async def test_configured_json_lines_mask_phone_numbers(stdout: Stdout) -> None:
    structlog.get_logger("relay.test").info("inbound.stop", sender="46701234567", n=1)
    await asyncio.sleep(0)
    (line,) = stdout.lines()
    assert line["sender"] == mask_phone("46701234567") == "********567"
    assert line["event"] == "inbound.stop"
    assert line["level"] == "info"
    stamped = datetime.datetime.fromisoformat(line["timestamp"])
    assert line["timestamp"].endswith("Z")
    assert abs(datetime.datetime.now(datetime.UTC) - stamped) < datetime.timedelta(seconds=5)


async def test_the_rendered_request_line_has_structlogs_keys_and_format(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]], stdout: Stdout
) -> None:
    """The canonical line bypasses structlog's chain once configured; nothing else changes."""
    client = await aiohttp_client(create_app(Settings(), FakePublisher()))
    body = BODIES["mo_text"]
    await client.post("/sms/incoming", data=body, headers={"X-Request-Id": "req-7"})
    await asyncio.sleep(0)
    (rendered,) = [line for line in stdout.lines() if line["event"] == "http.request"]
    reset()
    with capture_logs() as captured:
        await client.post("/sms/incoming", data=body, headers={"X-Request-Id": "req-8"})
    (through_structlog,) = [e for e in captured if e["event"] == "http.request"]
    # capture_logs names the level "log_level"; structlog's JSON chain says "level"
    assert set(rendered) == {*through_structlog} - {"log_level"} | {"level", "timestamp"}
    assert rendered["request_id"] == "req-7"
    assert rendered["status"] == through_structlog["status"] == 200
    assert rendered["routing_key"] == through_structlog["routing_key"] == "mo_text"
    assert rendered["level"] == "info"
    assert datetime.datetime.fromisoformat(rendered["timestamp"]).tzinfo is not None


async def test_above_level_info_no_request_line_is_written(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> None:
    out = Stdout()
    configure(LoggingSettings(format="json", level="warning"), out)
    try:
        client = await aiohttp_client(create_app(Settings(), FakePublisher()))
        response = await client.post("/sms/incoming", data=BODIES["mo_text"])
        await asyncio.sleep(0)
    finally:
        reset()
    assert response.status == 200
    assert [line["event"] for line in out.lines()] == []


@pytest.mark.parametrize(
    "name", ["aiormq.connection", "aio_pika.robust_connection", "asyncio", "aiohttp.access"]
)
async def test_a_librarys_log_record_is_one_json_line(stdout: Stdout, name: str) -> None:
    """Stdlib loggers go through structlog's chain: JSON, with level, time and logger name."""
    logging.getLogger(name).error("connection lost: %r", ConnectionError(111))
    await asyncio.sleep(0)
    (line,) = stdout.lines()
    assert line["event"] == "connection lost: ConnectionError(111)"
    assert (line["level"], line["logger"]) == ("error", name)
    assert line["timestamp"].endswith("Z")


async def test_aiormqs_failed_connect_line_is_left_to_our_own_warning(stdout: Stdout) -> None:
    """One line per connect attempt: aiormq's error-level repeat of it is dropped, its
    other lines are not."""
    aiormq = logging.getLogger("aiormq.connection")
    aiormq.error("error when creating transport: %r", ConnectionError(111))
    structlog.get_logger("relay.test").warning("amqp.connect_failed", error="Connection refused")
    aiormq.error("Unexpected connection close from remote")
    await asyncio.sleep(0)
    events = [line["event"] for line in stdout.lines()]
    assert events == ["amqp.connect_failed", "Unexpected connection close from remote"]


async def test_a_librarys_traceback_stays_inside_its_json_line(stdout: Stdout) -> None:
    """`log.exception` from a library: one line, the traceback a field of it."""
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("asyncio").exception("Task exception was never retrieved")
    await asyncio.sleep(0)
    (line,) = stdout.lines()
    assert "RuntimeError: boom" in line["exception"]
    assert line["level"] == "error"


async def test_library_and_relay_lines_keep_their_order(stdout: Stdout) -> None:
    """Both kinds share one writer, so a reader sees them as they happened."""
    log = structlog.get_logger("relay.test")
    log.warning("amqp.connect_failed", n=1)
    logging.getLogger("aiormq.connection").warning("second")
    log.warning("amqp.connect_failed", n=3)
    await asyncio.sleep(0)
    assert [line["event"] for line in stdout.lines()] == [
        "amqp.connect_failed",
        "second",
        "amqp.connect_failed",
    ]


async def test_a_python_warning_is_a_json_line(stdout: Stdout) -> None:
    """`warnings.warn` (shown once by default) goes through the same chain."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("coroutine was never awaited", RuntimeWarning, stacklevel=1)
    await asyncio.sleep(0)
    (line,) = stdout.lines()
    assert line["logger"] == "py.warnings"
    assert "coroutine was never awaited" in line["event"]


def test_on_a_console_status_type_and_latency_come_first() -> None:
    """The fields an operator reads first lead the line, before ids and paths."""
    out = io.StringIO()
    configure(LoggingSettings(format="console", level="info"), out)
    try:
        structlog.get_logger("relay.http").info(
            "http.request", request_id="r1", method="POST", path="/sms",
            latency_ms=1.5, status=200, type="mo_text",
        )  # fmt: skip
    finally:
        reset()
    text = out.getvalue()
    order = [text.index(key) for key in ("status", "type", "latency_ms", "request_id", "path")]
    assert order == sorted(order)


def test_an_uncaught_exception_is_one_json_line() -> None:
    """A crash off a TTY: one JSON line with the traceback as a field, nothing else."""
    code = (
        "from relay.config import LoggingSettings\n"
        "from relay.telemetry.logs import configure\n"
        "configure(LoggingSettings(format='json'))\n"
        "raise RuntimeError('boom')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stderr == ""
    (line,) = [orjson.loads(raw) for raw in done.stdout.splitlines()]
    assert (line["event"], line["level"]) == ("process.crashed", "critical")
    assert "RuntimeError: boom" in line["exception"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
async def test_probe_and_scrape_lines_are_debug_not_info(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]], path: str
) -> None:
    """Kubernetes probes every few seconds: at info they would drown the callbacks' lines."""
    client = await aiohttp_client(create_app(Settings(), FakePublisher()))
    with capture_logs() as captured:
        await client.get(path)
        await client.post("/sms/incoming", data=BODIES["mo_text"])
    levels = {e["path"]: e["log_level"] for e in captured if e["event"] == "http.request"}
    assert levels[path] == "debug"
    assert levels["/sms/incoming"] == "info"


async def test_a_phone_number_on_the_request_line_is_masked(stdout: Stdout) -> None:
    """The canonical line's own renderer masks a phone field as the structlog chain does."""
    request_line({"event": "http.request", "status": 200, "to": "46701234567"})
    await asyncio.sleep(0)
    (line,) = stdout.lines()
    assert list(line) == ["event", "status", "to", "level", "timestamp"]
    assert line["to"] == "********567"


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        (1_764_651_600_000_000_000, "2025-12-02T05:00:00.000000Z"),
        (1_764_651_600_000_005_999, "2025-12-02T05:00:00.000005Z"),
        (1_764_651_659_123_456_789, "2025-12-02T05:00:59.123456Z"),
    ],
)
def test_the_timestamp_is_utc_with_six_digits_of_microseconds(nanoseconds: int, text: str) -> None:
    """structlog's iso/utc text: always six digits, truncated, never rounded up."""
    with mock.patch("time.time_ns", return_value=nanoseconds):
        assert UtcTimestamper().now() == text
