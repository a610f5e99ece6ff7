"""`relay topology declare|check`: create or verify the relay's exchanges without serving.

`declare` creates (idempotently) the unrouted exchange and queue and both channel
exchanges, and with `--bind-example QUEUE` a durable quorum queue bound to every known
callback type, as a downstream service would. `check` only looks, and exits 1 with
the name of what is missing. Exit code 2: the broker could not be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from aio_pika.abc import AbstractChannel

from relay.config import ArchiveSettings, QuarantineSettings, Settings, TopologySettings
from relay.contract import topology
from relay.contract.routing import ROUTES, exchange_for
from relay.contract.topology import TopologyMissing
from relay.recovery import broker

EXIT_MISSING = 1
EXIT_UNREACHABLE = 2


async def declare(
    channel: AbstractChannel,
    names: TopologySettings,
    example: str | None,
    quarantine: QuarantineSettings | None = None,
    archive: ArchiveSettings | None = None,
) -> str:
    """Declare the topology (and the example queue); a one-line report."""
    await topology.declare(channel, names, quarantine, archive)
    declared = f"{names.delivery_reports}, {names.inbound}, {names.unrouted}"
    if quarantine is not None and quarantine.enabled:
        declared += f", {names.quarantine}"
    if archive is not None and archive.enabled:
        declared += f", {names.archive}"
    if example is None:
        return f"declared {declared}"
    await bind_example(channel, names, example)
    return f"declared the topology and queue {example} bound to {len(ROUTES)} types"


async def bind_example(channel: AbstractChannel, names: TopologySettings, queue: str) -> None:
    """A durable quorum queue bound to each known type on its channel's exchange."""
    declared = await channel.declare_queue(
        queue, durable=True, arguments={"x-queue-type": "quorum"}
    )
    for type_, which in ROUTES.items():
        await declared.bind(exchange_for(names, which), routing_key=type_)


async def command(settings: Settings, action: str, example: str | None, out: TextIO) -> int:
    """Run one action against the first reachable broker; return the exit code."""
    try:
        connection = await broker.connect(settings.amqp, "topology")
    except broker.BrokerUnreachable as exc:
        print(f"relay topology: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    async with connection:
        channel = await connection.channel()
        try:
            if action == "check":
                await topology.check(
                    channel, settings.topology, settings.quarantine, settings.archive
                )
                print("topology ok", file=out)
                return 0
            report = await declare(
                channel, settings.topology, example, settings.quarantine, settings.archive
            )
            print(report, file=out)
            return 0
        except TopologyMissing as exc:
            print(f"relay topology: check failed: {exc}", file=sys.stderr)
            return EXIT_MISSING


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=("declare", "check"),
        help="declare: create what is missing (idempotent); check: only look, exit 1 if "
        "anything is missing",
    )
    parser.add_argument(
        "--bind-example",
        metavar="QUEUE",
        help="declare: also create QUEUE bound to every callback type",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.bind_example and args.action != "declare":
        print("relay topology: --bind-example only goes with declare", file=sys.stderr)
        return EXIT_UNREACHABLE
    out = sys.stdout
    return asyncio.run(command(settings, args.action, args.bind_example, out))
