"""What a `list` command prints of a held message: short columns a person scans.

Never the body or a phone number: only the Sinch `id` or `batch_id` an operator searches
for in Sinch's dashboard, and identifiers the relay itself made.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

_MAX_CELL = 64


def sinch_ref(body: bytes) -> str:
    """The callback's Sinch `id` (inbound) or `batch_id` (delivery report), or `-`."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "-"
    if not isinstance(doc, dict):
        return "-"
    for key in ("id", "batch_id"):
        value = doc.get(key)
        if isinstance(value, str | int):
            return f"{key}={value}"
    return "-"


def text(headers: Mapping[str, Any], name: str, default: str = "-") -> str:
    """A header as one short printable cell."""
    value = headers.get(name)
    if value is None:
        return default
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)


def age(sent: datetime.datetime | None, now: datetime.datetime) -> str:
    """How long ago, to the two largest units: `42s`, `5m03s`, `3h12m`, `2d04h`."""
    if sent is None:
        return "-"
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=datetime.UTC)
    seconds = max(0, int((now - sent).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, each cell cut to 64 characters and kept on one line."""
    cells = [[_cell(c) for c in row] for row in (header, *rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: str) -> str:
    flat = value.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return flat if len(flat) <= _MAX_CELL else flat[: _MAX_CELL - 1] + "…"
