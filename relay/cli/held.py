"""What `relay unrouted` and `relay quarantine` share: `list|redrive` over a held queue.

Both print a table of what they found, stop a redrive at the first failed publish (the
rest stays in the queue), end with one summary line, and exit 0 done, 1 a publish
failed, 2 broker or queue not there.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

from relay.config import Settings
from relay.recovery import console, listing
from relay.recovery.broker import PublishFailed, RecoveryError

Action = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
EXIT_FAILED, EXIT_MISSING = 1, 2


def run(
    command: str, args: argparse.Namespace, settings: Settings, actions: Mapping[str, Action]
) -> int:
    """Run `args.action`; one line on stderr and exit 2 when the broker or queue is not there."""
    try:
        return asyncio.run(actions[args.action](args, settings))
    except RecoveryError as exc:
        print(f"{command} {args.action}: {exc}", file=sys.stderr)
        return EXIT_MISSING


def listed(command: str, header: Sequence[str], found: Sequence[Sequence[str]]) -> int:
    """Print what `list` found (left in the queue) and its summary line."""
    if found:
        print(listing.table(header, found))
    print(console.summary(f"{command} list", {"shown (left in the queue)": len(found)}, False))
    return 0


async def until_failed(
    total: int, redrive: Callable[[console.Progress], Awaitable[None]]
) -> PublishFailed | None:
    """Run `redrive` with a progress bar of `total`; the publish failure that stopped it, if any."""
    progress = console.Progress(total, "redrive")
    try:
        await redrive(progress)
    except PublishFailed as exc:
        return exc
    finally:
        progress.close()
    return None


def redriven(
    command: str,
    header: Sequence[str],
    would: Sequence[Sequence[str]],
    counts: Mapping[str, int],
    *,
    dry_run: bool,
    failed: PublishFailed | None,
) -> int:
    """Print what a dry run would publish, why a redrive stopped, and its summary line."""
    if would:
        print(listing.table(header, would))
    if failed is not None:
        print(f"{command} redrive: stopped, the rest stays: {failed}", file=sys.stderr)
    print(console.summary(f"{command} redrive", counts, dry_run))
    return 0 if failed is None else EXIT_FAILED
