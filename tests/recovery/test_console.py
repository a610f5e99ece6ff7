"""The progress bar and summary line every recovery command shares."""

from __future__ import annotations

import io

from relay.recovery.console import Progress, by_type, summary


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_nothing_off_a_tty() -> None:
    """Piped stderr gets no carriage returns or bars: logs stay clean."""
    stream = io.StringIO()
    progress = Progress(3, "redrive", stream)
    progress.advance(3)
    progress.close()
    assert stream.getvalue() == ""


def test_progress_on_a_tty_ends_on_the_final_count_and_a_newline() -> None:
    """A terminal sees the label, the bar filled to the total, then one line end."""
    stream = _Tty()
    progress = Progress(4, "redrive", stream)
    for _ in range(4):
        progress.advance()
    progress.close()
    last = stream.getvalue().split("\r")[-1]
    assert last == f"redrive [{'#' * 30}] 4/4\n"


def test_progress_without_a_total_counts() -> None:
    """An unknown total draws a running count instead of a bar."""
    stream = _Tty()
    progress = Progress(None, "list", stream)
    progress.advance(7)
    progress.close()
    assert stream.getvalue().split("\r")[-1] == "list 7\n"


def test_summary_is_one_line_and_says_a_dry_run_published_nothing() -> None:
    """The counts in the order given, then the dry-run note."""
    line = summary("relay quarantine redrive", {"published": 12, "still refused": 3}, True)
    assert line == (
        "relay quarantine redrive: 12 published, 3 still refused (dry run: nothing published)"
    )
    assert summary("relay unrouted redrive", {}, False) == "relay unrouted redrive: nothing to do"


def test_by_type_puts_the_total_first_then_each_type_by_name() -> None:
    """What `relay replay` and `relay backfill` end with: the sum, then types sorted."""
    counts = by_type("would replay", {"mt_dr": 1, "mo_text": 2})
    assert list(counts.items()) == [("would replay", 3), ("mo_text", 2), ("mt_dr", 1)]
