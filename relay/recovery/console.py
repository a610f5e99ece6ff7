"""What a recovery command shows a person: a progress bar on a TTY, one summary line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

MAX_LIMIT = 1_000_000  # every recovery command is bounded; this bounds the bound
_REDRAW_EVERY = 0.1  # seconds: at most ten redraws a second
_WIDTH = 30


class Progress:
    """A one-line bar on stderr, only when that stream is a TTY; a no-op otherwise.

    `total=None` (not known in advance) draws a running count without a bar.
    """

    def __init__(self, total: int | None, label: str, stream: TextIO | None = None) -> None:
        self._stream = sys.stderr if stream is None else stream
        self._total, self._label = total, label
        self._live = self._stream.isatty()
        self._done, self._drawn_at, self._drawn = 0, 0.0, False

    def advance(self, n: int = 1) -> None:
        self._done += n
        now = time.monotonic()
        if not self._live or (now - self._drawn_at < _REDRAW_EVERY and not self._finished()):
            return
        self._drawn_at, self._drawn = now, True
        self._stream.write(f"\r{self._label} {self._render()}")
        self._stream.flush()

    def close(self) -> None:
        """Draw the final state once and end the line (nothing if never drawn)."""
        if not self._live:
            return
        self._stream.write(f"\r{self._label} {self._render()}\n")
        self._stream.flush()

    def _finished(self) -> bool:
        return self._total is not None and self._done >= self._total

    def _render(self) -> str:
        if not self._total:
            return str(self._done)
        filled = _WIDTH * min(self._done, self._total) // self._total
        return f"[{'#' * filled}{'-' * (_WIDTH - filled)}] {self._done}/{self._total}"


def summary(command: str, counts: Mapping[str, int], dry_run: bool) -> str:
    """The one line a recovery command ends with, counts in the order given.

    >>> summary("relay quarantine redrive", {"published": 12, "still refused": 3}, True)
    'relay quarantine redrive: 12 published, 3 still refused (dry run: nothing published)'
    """
    told = ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing to do"
    return f"{command}: {told}" + (" (dry run: nothing published)" if dry_run else "")


def bounded(text: str) -> int:
    """An argparse type: a whole number from 1 to MAX_LIMIT."""
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_LIMIT}")
    return value


def with_config(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`--config F`, as every command that reads the settings takes it."""
    parser.add_argument("--config", type=Path, help="TOML settings (as for `relay serve`)")
    return parser


def with_window(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`--config F --since D|T [--until D|T]`, as `relay replay` and `relay backfill` take them."""
    with_config(parser)
    parser.add_argument("--since", required=True, help="a duration back (36h, 2d) or a timestamp")
    parser.add_argument("--until", help="a duration back or a timestamp (default: now)")
    return parser


def by_type(total: str, counts: Mapping[str, int]) -> dict[str, int]:
    """The counts for `summary`: the total first, then each type by name.

    >>> by_type("replayed", {"mt_dr": 1, "mo_text": 2})
    {'replayed': 3, 'mo_text': 2, 'mt_dr': 1}
    """
    return {total: sum(counts.values()), **dict(sorted(counts.items()))}
