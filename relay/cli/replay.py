"""`relay replay`: republish a time window of the archive stream (docs/recovery.md).

relay replay --since 36h [--until 2h] [--type mo_text ...] (--to-queue Q | --to-exchange)
             [--dry-run]

Bounded: it reads from `--since` up to `--until` (default: now) and stops at the end the
stream had when it started. A progress count on a TTY, one summary line at the end;
`--dry-run` counts per type and publishes nothing. Exit 1 with one line on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
from collections import Counter

from relay.config import Settings
from relay.recovery import broker
from relay.recovery.console import Progress, by_type, summary, with_window
from relay.recovery.replay import Plan, replay
from relay.recovery.window import window

COMMAND = "relay replay"
EXIT_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    with_window(parser)
    parser.add_argument(
        "--type", action="append", default=[], dest="types", help="only this type (repeatable)"
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--to-queue", metavar="Q", help="into queue Q only (default exchange)")
    where.add_argument(
        "--to-exchange", action="store_true", help="to each type's exchange: every bound queue"
    )
    parser.add_argument("--dry-run", action="store_true", help="count per type, publish nothing")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        now = datetime.datetime.now(datetime.UTC)
        plan = Plan(window(args.since, args.until, now), args.types, args.to_queue, args.dry_run)
        counts = asyncio.run(command(settings, plan))
    except broker.RecoveryError as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    total = "would replay" if plan.dry_run else "replayed"
    print(summary(COMMAND, by_type(total, counts), plan.dry_run))
    return 0


async def command(settings: Settings, plan: Plan) -> Counter[str]:
    """Connect, replay `plan`, and return what was (or would be) republished, by type."""
    connection = await broker.connect(settings.amqp, "replay")
    async with connection:
        source = await connection.channel()
        target = await connection.channel(publisher_confirms=True, on_return_raises=True)
        progress = Progress(None, "replayed" if not plan.dry_run else "counted")
        try:
            return await replay(source, target, settings.topology, plan, progress)
        finally:
            progress.close()
