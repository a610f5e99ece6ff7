"""The one log set-up of the relay and the consumers: JSON lines off a TTY, a console on one.

Off a TTY every line is JSON, the libraries' own (aiohttp, aio-pika, aiormq, asyncio,
warnings) included: they go through structlog's stdlib integration. On a TTY the fields
an operator reads first (status, type, latency) come first.

Phone numbers are masked by a processor, whichever event logs them; bodies are never
passed to a logger in the first place.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import time
from collections.abc import Callable, MutableMapping
from types import TracebackType
from typing import Any, BinaryIO, TextIO

import orjson
import structlog

from relay.config import LoggingSettings

# Keys whose values are phone numbers (MSISDNs) wherever they appear in an event.
PHONE_KEYS = frozenset({"from", "to", "recipient", "msisdn", "sender", "number"})


def mask_phone(value: str) -> str:
    """Keep the last three digits: enough to correlate, too little to identify."""
    return "*" * max(len(value) - 3, 0) + value[-3:] if len(value) > 3 else "***"


def mask_phone_numbers(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PHONE_KEYS.intersection(event):
        if isinstance(event[key], str):
            event[key] = mask_phone(event[key])
    return event


class UtcTimestamper:
    """`timestamp` as ISO 8601 UTC with microseconds, e.g. 2025-01-13T09:37:57.205123Z.

    The same text as structlog's TimeStamper(fmt="iso", utc=True), cheaper (see
    docs/performance.md): the date and time of day are formatted once per second, not once
    per line, and the microseconds without a format spec (parsed anew on every call).
    """

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(
        self, _: Any, __: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event["timestamp"] = self.now()
        return event

    def now(self) -> str:
        second, micro = divmod(time.time_ns() // 1000, 1_000_000)
        if second != self._second:
            self._second, self._prefix = (
                second,
                time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)),
            )
        return f"{self._prefix}{str(1_000_000 + micro)[1:]}Z"  # zero-padded to six digits


class _RequestLines:
    """Where the canonical per-request lines go; see `request_line`."""

    writer: TickFlushedWriter | None = None  # set by `configure` for JSON at level info
    stamp = UtcTimestamper()
    fallback = structlog.get_logger("relay.http")


def request_line(fields: dict[str, Any]) -> None:
    """Log the canonical line made of `fields` (its "event" first; consumed) at level info.

    Once `configure` set up JSON lines at level info or lower, the line is rendered
    here: the same keys, timestamp format and phone masking as structlog's chain, at
    a fraction of its cost (structlog's bound-logger and processor chain showed up in
    the request's profile; docs/performance.md). Anywhere else (console output, tests that
    capture structlog events, no configuration) the line goes through structlog.
    """
    writer = _RequestLines.writer
    if writer is None:
        _RequestLines.fallback.info(**fields)
        return
    fields["level"] = "info"
    fields["timestamp"] = _RequestLines.stamp.now()
    if not PHONE_KEYS.isdisjoint(fields):  # one pass in C; the canonical line has none
        mask_phone_numbers(None, "info", fields)
    writer.msg(orjson.dumps(fields))


def configure(settings: LoggingSettings, stream: TextIO | None = None) -> None:
    """Configure structlog, and route every stdlib logger through the same chain."""
    out = stream or sys.stdout
    as_json = settings.format == "json" or (settings.format == "auto" and not out.isatty())
    level = logging.getLevelNamesMapping()[settings.level.upper()]
    factory = _factory(as_json, out)
    structlog.configure(
        processors=[*_shared(), *_rendering(as_json)],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=factory,
        cache_logger_on_first_use=False,
    )
    fast = isinstance(factory, _Fixed) and level <= logging.INFO
    _RequestLines.writer = factory.writer if fast else None
    # Libraries log at info about every reconnect; their warnings and errors are the news.
    _route_stdlib(ForeignLines(_line_writer(factory, out), as_json), max(level, logging.WARNING))
    sys.excepthook = _crash_line if as_json else sys.__excepthook__


def _shared() -> list[Any]:
    return [structlog.processors.add_log_level, UtcTimestamper(), mask_phone_numbers]


def _rendering(as_json: bool, text: bool = False) -> list[Any]:
    """The chain's last steps; `text`: the renderer returns str (the stdlib's formatter)."""
    if as_json:
        dumps = _dumps_text if text else orjson.dumps
        json = structlog.processors.JSONRenderer(serializer=dumps)
        return [structlog.processors.format_exc_info, json]
    return [fields_that_matter_first, structlog.dev.ConsoleRenderer(sort_keys=False)]


def _dumps_text(value: Any, **kwargs: Any) -> str:
    return orjson.dumps(value, **kwargs).decode()


# What an operator reads first on a console line, after the time, level and event.
FIRST_FIELDS = ("status", "type", "latency_ms", "error", "reason")


def fields_that_matter_first(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Reorder the console line: status, type and latency before ids and paths."""
    first = {key: event.pop(key) for key in FIRST_FIELDS if key in event}
    return {**first, **event}


class ForeignLines(logging.Handler):
    """Records of stdlib loggers (aiohttp, aio-pika, aiormq, asyncio), rendered as ours.

    They go through structlog's stdlib integration (`ProcessorFormatter`), so off a TTY a
    library's error is one JSON line like every other (a plain-text line used to break
    JSON-lines parsers), with its logger's name; they are written where structlog's lines
    go, in the same order.
    """

    def __init__(self, write: Callable[[str], None], as_json: bool) -> None:
        super().__init__()
        self._write = write
        meta = structlog.stdlib.ProcessorFormatter.remove_processors_meta
        self.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=[*_shared(), structlog.stdlib.add_logger_name],
                processors=[meta, *_rendering(as_json, text=True)],
            )
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.format(record))
        except Exception:
            self.handleError(record)


# Library lines that only repeat one of ours: aiormq logs a failed connect at error level
# on every attempt, and the relay's and consumers' `amqp.connect_failed` warning already
# says it once, in the broker's words.
REPEATED = {"aiormq.connection": "error when creating transport"}


def not_a_repeat(record: logging.LogRecord) -> bool:
    """False for a library record that only repeats a line of our own (see `REPEATED`)."""
    prefix = REPEATED.get(record.name)
    return prefix is None or not str(record.msg).startswith(prefix)


def _route_stdlib(handler: logging.Handler, level: int) -> None:
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    handler.addFilter(not_a_repeat)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # `warnings.warn` lines too


def _line_writer(factory: Any, out: TextIO) -> Callable[[str], None]:
    if isinstance(factory, _Fixed):
        writer = factory.writer
        return lambda line: writer.msg(line.encode())

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    return write


def _crash_line(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """An uncaught exception as one JSON line (its traceback a field), not bare text."""
    structlog.get_logger("relay").critical("process.crashed", exc_info=(kind, error, tb))


def reset() -> None:
    """Back to structlog's defaults (tests that configured logging clean up with this)."""
    structlog.reset_defaults()
    _RequestLines.writer = None
    logging.captureWarnings(False)
    sys.excepthook = sys.__excepthook__


def _factory(as_json: bool, out: TextIO) -> Any:
    if as_json and hasattr(out, "buffer"):
        return _Fixed(TickFlushedWriter(out.buffer))
    if as_json:
        return structlog.BytesLoggerFactory()
    return structlog.PrintLoggerFactory(out)


class _Fixed:
    """A structlog logger factory that hands out one writer."""

    def __init__(self, writer: TickFlushedWriter) -> None:
        self.writer = writer

    def __call__(self, *_: Any) -> TickFlushedWriter:
        return self.writer


class TickFlushedWriter:
    """A structlog logger collecting JSON lines, written to a binary stream once per loop tick.

    The stream is not trusted to buffer: with PYTHONUNBUFFERED=1 (the Docker image sets
    it) `sys.stdout.buffer` writes through, and a write per line was one syscall per
    request (its cost: docs/performance.md). Lines of one event-loop
    iteration are joined and written once, from a call_soon callback, so none waits
    longer than the current tick; outside a running loop, and at exit, lines are
    written at once.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lines: list[bytes] = []
        atexit.register(self.flush)

    def msg(self, message: bytes) -> None:
        self._lines.append(message)
        if len(self._lines) > 1:  # a flush is already scheduled
            return
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        lines.append(b"")
        self._stream.write(b"\n".join(lines))
        self._stream.flush()

    log = debug = info = warn = warning = error = err = critical = exception = msg
    fatal = failure = msg
