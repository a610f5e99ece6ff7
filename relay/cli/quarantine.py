"""`relay quarantine list|redrive`: the callbacks edge security refused, and their way back.

`list` shows up to `--limit` held callbacks (reason, route, type, Sinch id, age), of one
`--reason` if given, and leaves them. `redrive` re-checks each against the current
configuration and publishes, with confirms, those that now pass; what still fails stays.
`--dry-run` re-checks and prints what would be published. docs/recovery.md has the runbook.
Exit codes: 0 done, 1 a publish failed (the rest stays), 2 broker or queue not there.
"""

from __future__ import annotations

import argparse

from relay.cli import held
from relay.config import Settings
from relay.recovery import quarantine
from relay.recovery.broker import confirmed_channel
from relay.recovery.console import bounded, with_config
from relay.recovery.recheck import Checks

COMMAND = "relay quarantine"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = with_config(actions.add_parser("list", help="show held callbacks, leave them"))
    show.add_argument("--limit", type=bounded, default=50, help="at most N (default 50)")
    show.add_argument("--reason", metavar="R", help="only those refused for R (bad_signature)")
    again = with_config(actions.add_parser("redrive", help="re-check; publish what now passes"))
    again.add_argument("--dry-run", action="store_true", help="re-check, publish nothing")
    again.add_argument(
        "--limit", type=bounded, default=10_000, help="at most N held callbacks (default 10000)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    return held.run(COMMAND, args, settings, {"list": _list, "redrive": _redrive})


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    async with confirmed_channel(settings.amqp, purpose="quarantine") as channel:
        found = await quarantine.rows(
            channel, settings.topology.quarantine, args.limit, args.reason
        )
    return held.listed(COMMAND, quarantine.HEADER, found)


async def _redrive(args: argparse.Namespace, settings: Settings) -> int:
    run = quarantine.Redrive(Checks(settings), args.dry_run)
    async with confirmed_channel(settings.amqp, purpose="quarantine") as channel:
        total = await quarantine.planned(channel, settings, args.limit)
        failed = await held.until_failed(
            total, lambda progress: quarantine.redrive(channel, run, total, progress)
        )
    header = ("request id", "route", "exchange", "type")
    return held.redriven(
        COMMAND, header, run.would, run.counts, dry_run=args.dry_run, failed=failed
    )
