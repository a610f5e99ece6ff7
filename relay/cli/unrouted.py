"""`relay unrouted list|redrive`: what waits in the unrouted queue, and sending it on.

`list` shows up to `--limit` messages (type, reason, request id, Sinch id, age) and
leaves them in the queue. `redrive` publishes again, with confirms, each message the
current code routes to a queue that is now bound (same body, same `x-dedup-key`), and
acks the original only then; `--type` limits it to some types, `--dry-run` only counts.
Exit codes: 0 done, 1 a publish failed (the rest stays), 2 broker or queue not there.
"""

from __future__ import annotations

import argparse
from collections import Counter

from relay.cli import held
from relay.config import Settings
from relay.recovery import unrouted
from relay.recovery.broker import confirmed_channel
from relay.recovery.console import bounded, with_config

COMMAND = "relay unrouted"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = with_config(actions.add_parser("list", help="show waiting messages, leave them"))
    show.add_argument("--limit", type=bounded, default=50, help="at most N (default 50)")
    again = with_config(actions.add_parser("redrive", help="republish what is now routable"))
    again.add_argument(
        "--type", action="append", dest="types", metavar="T", help="only type T (repeatable)"
    )
    again.add_argument("--dry-run", action="store_true", help="count, publish nothing")
    again.add_argument(
        "--limit", type=bounded, default=10_000, help="at most N messages (default 10000)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    return held.run(COMMAND, args, settings, {"list": _list, "redrive": _redrive})


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    async with confirmed_channel(settings.amqp, purpose="unrouted") as channel:
        found = await unrouted.rows(channel, settings.topology.unrouted, args.limit)
    return held.listed(COMMAND, unrouted.HEADER, found)


async def _redrive(args: argparse.Namespace, settings: Settings) -> int:
    types = frozenset(args.types) if args.types else None
    plan = unrouted.Redrive(settings.topology, types, args.limit, args.dry_run)
    counts: Counter[str] = Counter()
    async with confirmed_channel(settings.amqp, purpose="unrouted") as channel:
        total = await unrouted.planned(channel, plan)
        failed = await held.until_failed(
            total, lambda progress: unrouted.redrive(channel, plan, total, progress, counts)
        )
    header = ("request id", "type", "exchange")
    return held.redriven(COMMAND, header, plan.would, counts, dry_run=args.dry_run, failed=failed)
