"""`relay unrouted list|redrive`: what waits in the unrouted queue, and sending it on.

`list` shows up to `--limit` messages (type, reason, request id, Sinch id, age) and
leaves them in the queue. `redrive` publishes again, with confirms, each message the
current code routes to a queue that is now bound (same body, same `x-dedup-key`), and
acks the original only then; `--type` limits it to some types, `--dry-run` only counts.
Exit codes: 0 done, 1 a publish failed (the rest stays), 2 broker or queue not there.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter

from relay.config import Settings
from relay.recovery import console, listing, unrouted
from relay.recovery.broker import PublishFailed, RecoveryError, confirmed_channel
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
    try:
        action = _list if args.action == "list" else _redrive
        return asyncio.run(action(args, settings))
    except RecoveryError as exc:
        print(f"{COMMAND} {args.action}: {exc}", file=sys.stderr)
        return 2


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    async with confirmed_channel(settings.amqp, purpose="unrouted") as channel:
        found = await unrouted.rows(channel, settings.topology.unrouted, args.limit)
    if found:
        print(listing.table(unrouted.HEADER, found))
    print(console.summary(f"{COMMAND} list", {"shown (left in the queue)": len(found)}, False))
    return 0


async def _redrive(args: argparse.Namespace, settings: Settings) -> int:
    types = frozenset(args.types) if args.types else None
    plan = unrouted.Redrive(settings.topology, types, args.limit, args.dry_run)
    counts: Counter[str] = Counter()
    failed: PublishFailed | None = None
    async with confirmed_channel(settings.amqp, purpose="unrouted") as channel:
        total = await unrouted.planned(channel, plan)
        progress = console.Progress(total, "redrive")
        try:
            await unrouted.redrive(channel, plan, total, progress, counts)
        except PublishFailed as exc:
            failed = exc
        progress.close()
    if plan.would:
        print(listing.table(("request id", "type", "exchange"), plan.would))
    if failed is not None:
        print(f"{COMMAND} redrive: stopped, the rest stays: {failed}", file=sys.stderr)
    print(console.summary(f"{COMMAND} redrive", counts, args.dry_run))
    return 0 if failed is None else 1
