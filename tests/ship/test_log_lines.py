"""A relay process off a TTY writes nothing but JSON lines, the libraries' lines included."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import orjson

from tests.support.ports import free_port

NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"  # refused: aiormq logs its own error line


async def _lines_until_aiormq_speaks(process: asyncio.subprocess.Process) -> list[bytes]:
    assert process.stdout is not None
    lines: list[bytes] = []
    while not any(b'"aiormq.' in line for line in lines):
        line = await process.stdout.readline()
        if not line:
            break
        lines.append(line)
    return lines


async def test_a_relay_without_a_broker_logs_only_json_lines() -> None:
    """aiormq's own connection error used to be `ERROR aiormq.connection ...` plain text."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "relay", "serve", "--host", "127.0.0.1"),
        *("--port", str(free_port())),
        env={**os.environ, "RELAY_AMQP_URL": NO_BROKER, "RELAY_LOGGING_FORMAT": "auto"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        lines = await asyncio.wait_for(_lines_until_aiormq_speaks(process), 30)
    finally:
        process.send_signal(signal.SIGTERM)
    rest, err = await asyncio.wait_for(process.communicate(), 30)
    events = [orjson.loads(line) for line in [*lines, *rest.splitlines(keepends=True)]]
    assert err == b""
    assert process.returncode == 0
    libraries = [e for e in events if str(e.get("logger", "")).startswith("aiormq")]
    assert libraries
    assert all(e["level"] and e["timestamp"] for e in libraries)
    assert events[-1]["event"] == "relay.stopped"
