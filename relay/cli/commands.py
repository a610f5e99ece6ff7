"""The subcommands of `relay`; each one's logic lives in its own module.

relay serve [--host H] [--port P] [--config F] [--workers N]
relay simulate --url URL [--rate R] [--count N] [--secret S] [--concurrency C]
relay asyncapi                 print the AsyncAPI document of the AMQP side
relay topology declare|check   create or verify the exchanges and the unrouted queue
relay config --reference       print the settings reference table (Markdown)
relay replay --since D|T [--until D|T] [--type T] (--to-queue Q | --to-exchange) [--dry-run]
relay backfill --since D|T [--until D|T] [--inbound] [--delivery-reports] [--dry-run]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from relay.config import Settings

Subparsers = Any  # argparse's _SubParsersAction is private


def add_commands(sub: Subparsers) -> None:
    """Register every subcommand on the `relay` parser."""
    from relay.cli import reference as config_reference
    from relay.cli import serve, simulate
    from relay.cli import topology as topology_cli

    srv = sub.add_parser("serve", help="serve Sinch callbacks and publish them to RabbitMQ")
    serve.add_arguments(srv)
    srv.set_defaults(run=serve.run)
    sim = sub.add_parser("simulate", help="send realistic Sinch callbacks to a relay")
    simulate.add_arguments(sim)
    sim.set_defaults(run=lambda args, _: simulate.run(args))
    doc = _with_config(sub.add_parser("asyncapi", help="print the AMQP side as AsyncAPI 2.6"))
    doc.set_defaults(run=_print_asyncapi)
    topo = _with_config(sub.add_parser("topology", help="declare or check the AMQP topology"))
    topology_cli.add_arguments(topo)
    topo.set_defaults(run=topology_cli.run)
    ref = sub.add_parser("config", help="print the configuration reference")
    config_reference.add_arguments(ref)
    ref.set_defaults(run=lambda args, _: config_reference.run(args))
    _add_recovery(sub)


def _add_recovery(sub: Subparsers) -> None:
    from relay.cli import backfill, replay

    rep = sub.add_parser("replay", help="republish a time window of the archive stream")
    replay.add_arguments(rep)
    rep.set_defaults(run=replay.run)
    back = sub.add_parser("backfill", help="publish what Sinch's list APIs hold for a window")
    backfill.add_arguments(back)
    back.set_defaults(run=backfill.run)


def _with_config(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--config", type=Path, help="TOML settings (as for `relay serve`)")
    return parser


def _print_asyncapi(_: argparse.Namespace, settings: Settings) -> int:
    from relay.contract import asyncapi

    sys.stdout.buffer.write(asyncapi.render(settings) + b"\n")
    sys.stdout.flush()
    return 0
