"""Log lines: JSON through the tick-batched writer, phone numbers masked."""

from __future__ import annotations

import asyncio
import datetime
import io

import orjson
import structlog

from relay.config import LoggingSettings
from relay.logging import TickFlushedWriter, configure, mask_phone


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


async def test_configured_json_lines_mask_phone_numbers() -> None:
    class Stdout(io.StringIO):
        buffer = CountingStream()

    out = Stdout()
    configure(LoggingSettings(format="json", level="info"), out)
    try:
        structlog.get_logger("relay.test").info("inbound.stop", sender="46701234567", n=1)
        await asyncio.sleep(0)
    finally:
        structlog.reset_defaults()
    (line,) = [orjson.loads(raw) for raw in out.buffer.getvalue().splitlines()]
    assert line["sender"] == mask_phone("46701234567") == "********567"
    assert line["event"] == "inbound.stop"
    assert line["level"] == "info"
    stamped = datetime.datetime.fromisoformat(line["timestamp"])
    assert line["timestamp"].endswith("Z")
    assert abs(datetime.datetime.now(datetime.UTC) - stamped) < datetime.timedelta(seconds=5)
