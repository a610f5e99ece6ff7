"""The time window a recovery command covers: `--since` and `--until`, as a person types them.

Each is a duration back from now (`90m`, `36h`, `2d`, `1h30m`) or an ISO-8601 timestamp
(`2026-12-01T08:00:00Z`; without an offset it is UTC). `--until` defaults to the moment
the command started, so a run is bounded however long it takes.
"""

from __future__ import annotations

import datetime
import re
from typing import NamedTuple

from relay.recovery.broker import RecoveryError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:\d+[smhd])+")
_PART = re.compile(r"(\d+)([smhd])")


class Window(NamedTuple):
    """From `since` (inclusive) to `until` (exclusive), both aware, in UTC."""

    since: datetime.datetime
    until: datetime.datetime

    def holds(self, when: datetime.datetime) -> bool:
        return self.since <= when < self.until


def moment(text: str, now: datetime.datetime) -> datetime.datetime:
    """`text` as an aware UTC datetime: `now` less a duration, or a timestamp."""
    if _DURATION.fullmatch(text):
        seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))
        return now - datetime.timedelta(seconds=seconds)
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise RecoveryError(
            f"{text!r} is neither a duration (90m, 36h, 2d) nor an ISO-8601 timestamp"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.astimezone(datetime.UTC)


def window(since: str, until: str | None, now: datetime.datetime) -> Window:
    """The window `--since`/`--until` name; `RecoveryError` if it is empty."""
    start = moment(since, now)
    end = now if until is None else moment(until, now)
    if start >= end:
        raise RecoveryError(f"--since ({start:%Y-%m-%dT%H:%M:%SZ}) is not before --until "
                            f"({end:%Y-%m-%dT%H:%M:%SZ})")  # fmt: skip
    return Window(start, end)
