"""`relay backfill`: publish what Sinch's list APIs hold for a window (docs/recovery.md).

relay backfill --since 2d [--until 1h] [--inbound] [--delivery-reports] [--dry-run]

Neither `--inbound` nor `--delivery-reports`: both. Every item goes out with the dedup
key its callback would have carried, so consumers drop what they already have. A
progress bar per kind on a TTY, one summary line at the end; `--dry-run` counts per type
and publishes nothing (and needs no broker). Exit 1 with one line on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
from collections import Counter

import aiohttp

from relay.config import Settings
from relay.recovery import broker
from relay.recovery.backfill import Plan, backfill
from relay.recovery.console import by_type, summary, with_window
from relay.recovery.sinch_api import Kind, SinchApi
from relay.recovery.window import window

COMMAND = "relay backfill"
EXIT_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    with_window(parser)
    parser.add_argument("--inbound", action="store_true", help="inbound messages (MO)")
    parser.add_argument("--delivery-reports", action="store_true", help="per-recipient reports")
    parser.add_argument("--dry-run", action="store_true", help="count per type, publish nothing")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        now = datetime.datetime.now(datetime.UTC)
        span = window(args.since, args.until, now)
        plan = Plan(span, kinds(args), args.dry_run, settings.archive.enabled)
        counts = asyncio.run(command(settings, plan))
    except broker.RecoveryError as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    total = "would publish" if plan.dry_run else "published"
    print(summary(COMMAND, by_type(total, counts), plan.dry_run))
    return 0


def kinds(args: argparse.Namespace) -> tuple[Kind, ...]:
    """The lists to page: those asked for, or both."""
    chosen: list[Kind] = []
    if args.inbound:
        chosen.append("inbounds")
    if args.delivery_reports:
        chosen.append("delivery_reports")
    return tuple(chosen) or ("inbounds", "delivery_reports")


async def command(settings: Settings, plan: Plan) -> Counter[str]:
    """Page Sinch's lists for `plan`, publishing unless a dry run; counts by type."""
    async with aiohttp.ClientSession() as session:
        api = SinchApi(session, settings.sinch)
        if plan.dry_run:
            return await backfill(api, None, settings.topology, plan)
        async with broker.confirmed_channel(settings.amqp, purpose="backfill") as channel:
            return await backfill(api, channel, settings.topology, plan)
