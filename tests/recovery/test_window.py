"""--since and --until as a person types them: durations back from now, or timestamps."""

from __future__ import annotations

import datetime

import pytest

from relay.recovery.broker import RecoveryError
from relay.recovery.window import Window, moment, window

NOW = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", datetime.datetime(2026, 12, 2, 10, 30, tzinfo=datetime.UTC)),
        ("1h30m", datetime.datetime(2026, 12, 2, 10, 30, tzinfo=datetime.UTC)),
        ("2d", datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)),
        ("2026-12-01T08:00:00Z", datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.UTC)),
        ("2026-12-01T09:00:00+01:00", datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.UTC)),
        ("2026-12-01T08:00", datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.UTC)),
    ],
)
def test_a_moment_is_a_duration_back_or_a_timestamp_in_utc(
    text: str, expected: datetime.datetime
) -> None:
    """Durations count back from now; a timestamp without an offset is UTC."""
    assert moment(text, NOW) == expected


def test_until_defaults_to_now_and_the_window_excludes_it() -> None:
    """[since, until): the command's start bounds it."""
    w = window("1h", None, NOW)
    assert w == Window(NOW - datetime.timedelta(hours=1), NOW)
    assert w.holds(w.since)
    assert not w.holds(w.until)


@pytest.mark.parametrize(("since", "until"), [("1h", "2h"), ("yesterday", None)])
def test_an_empty_or_unreadable_window_is_one_line(since: str, until: str | None) -> None:
    """Nothing to do is said, not silently done."""
    with pytest.raises(RecoveryError):
        window(since, until, NOW)
