"""A relay process off a TTY writes nothing but JSON lines, the libraries' lines included."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import orjson

from tests.support.ports import free_port

NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"  # refused: aiormq logs its own error line
ATTEMPTS = 3


async def _lines_until_attempts(process: asyncio.subprocess.Process) -> list[bytes]:
    assert process.stdout is not None
    lines: list[bytes] = []
    while sum(b'"amqp.connect_failed"' in line for line in lines) < ATTEMPTS:
        line = await process.stdout.readline()
        if not line:
            break
        lines.append(line)
    return lines


async def test_a_relay_without_a_broker_logs_only_json_lines() -> None:
    """aiormq's own connection error used to be `ERROR aiormq.connection ...` plain text,
    and a second line per connect attempt besides the relay's warning."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "relay", "serve", "--host", "127.0.0.1"),
        *("--port", str(free_port())),
        env={**os.environ, "RELAY_AMQP_URL": NO_BROKER, "RELAY_LOGGING_FORMAT": "auto"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        lines = await asyncio.wait_for(_lines_until_attempts(process), 30)
    finally:
        process.send_signal(signal.SIGTERM)
    rest, err = await asyncio.wait_for(process.communicate(), 30)
    events = [orjson.loads(line) for line in [*lines, *rest.splitlines(keepends=True)]]
    assert err == b""
    assert process.returncode == 0
    assert all(e["level"] and e["timestamp"] for e in events)
    repeats = [e for e in events if "creating transport" in str(e["event"])]
    assert repeats == []  # one line per attempt: the relay's own warning
    assert events[-1]["event"] == "relay.stopped"
