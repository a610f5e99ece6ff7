"""What `relay unrouted` and `relay quarantine` share when a redrive stops or the broker is gone."""

from __future__ import annotations

import argparse

import pytest

from relay.cli import held
from relay.config import Settings
from relay.recovery.broker import PublishFailed, QueueMissing
from relay.recovery.console import Progress


async def test_a_failed_publish_stops_the_redrive_and_is_returned() -> None:
    """The publish failure that stopped it comes back as a value, not as an exception."""
    done: list[int] = []

    async def redrive(progress: Progress) -> None:
        done.append(1)
        raise PublishFailed("nacked")

    failed = await held.until_failed(2, redrive)
    assert failed is not None
    assert str(failed) == "nacked"
    assert done == [1]
    assert await held.until_failed(0, lambda progress: _nothing()) is None


async def _nothing() -> None:
    return None


def test_a_stopped_redrive_says_so_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """One stderr line for the stop, the summary on stdout, exit 1; done is exit 0."""
    failed = PublishFailed("nacked")
    code = held.redriven("relay x", ("id",), [], {"published": 2}, dry_run=False, failed=failed)
    out, err = capsys.readouterr()
    assert (code, err) == (1, "relay x redrive: stopped, the rest stays: nacked\n")
    assert out == "relay x redrive: 2 published\n"
    assert held.redriven("relay x", ("id",), [], {}, dry_run=True, failed=None) == 0


def test_a_missing_queue_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """The action's RecoveryError becomes `<command> <action>: <why>` and exit 2."""

    async def missing(args: argparse.Namespace, settings: Settings) -> int:
        raise QueueMissing("queue 'q' not found")

    args = argparse.Namespace(action="list")
    assert held.run("relay x", args, Settings(), {"list": missing}) == 2
    assert capsys.readouterr().err == "relay x list: queue 'q' not found\n"
