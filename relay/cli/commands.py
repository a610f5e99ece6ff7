"""The subcommands of `relay`; each one's logic lives in its own module.

relay serve [--host H] [--port P] [--config F] [--workers N]
relay simulate --url URL [--rate R] [--count N] [--secret-env NAME] [--concurrency C]
relay asyncapi                 print the AsyncAPI document of the AMQP side
relay topology declare|check   create or verify the exchanges and the unrouted queue
relay config --reference       print the settings reference table (Markdown)
relay replay --since D|T [--until D|T] [--type T] (--to-queue Q | --to-exchange) [--dry-run]
relay backfill --since D|T [--until D|T] [--inbound] [--delivery-reports] [--dry-run]
relay unrouted list|redrive    look into the unrouted queue, republish what is now routable
relay quarantine list|redrive  look into refused callbacks, re-check and republish them

A command registered with `needs_settings=False` runs without reading the settings, so an
unrelated bad variable cannot stop it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from relay.config import Settings
from relay.config.loader import Section
from relay.recovery.console import with_config

Subparsers = Any  # argparse's _SubParsersAction is private


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Docstrings keep their lines; options show their default, unless there is none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or "%(default)" in (
            action.help or ""
        ):
            return action.help
        return super()._get_help_string(action)


def command(
    sub: Subparsers,
    name: str,
    help_: str,
    run: Callable[..., int],
    needs_settings: bool = True,
    prints: bool = False,
) -> argparse.ArgumentParser:
    """A subcommand parser whose help shows defaults; `run(args[, settings])` runs it.

    `prints`: its stdout is a document (AsyncAPI, a report), so log lines go to stderr.
    """
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_, description=help_, formatter_class=HelpFormatter
    )
    parser.set_defaults(run=run, needs_settings=needs_settings, prints=prints)
    return parser


def add_commands(sub: Subparsers) -> None:
    """Register every subcommand on the `relay` parser."""
    from relay.cli import quarantine, serve, simulate, unrouted
    from relay.cli import reference as config_reference
    from relay.cli import topology as topology_cli

    srv = command(sub, "serve", "serve Sinch callbacks and publish them to RabbitMQ", serve.run)
    serve.add_arguments(srv)
    sim = command(sub, "simulate", "send realistic Sinch callbacks to a relay", simulate.run, False)
    simulate.add_arguments(sim)
    with_config(
        command(sub, "asyncapi", "print the AMQP side as AsyncAPI 2.6", _asyncapi, prints=True)
    )
    topo = command(
        sub, "topology", "declare or check the AMQP topology", topology_cli.run, prints=True
    )
    topology_cli.add_arguments(with_config(topo))
    ref = command(sub, "config", "print the configuration reference", config_reference.run, False)
    config_reference.add_arguments(ref)
    unr = command(sub, "unrouted", "list or redrive the unrouted queue", unrouted.run, prints=True)
    unrouted.add_arguments(unr)
    qua = command(
        sub,
        "quarantine",
        "list, or re-check and redrive, refused callbacks",
        quarantine.run,
        prints=True,
    )
    quarantine.add_arguments(qua)
    _add_recovery(sub)


def _add_recovery(sub: Subparsers) -> None:
    from relay.cli import backfill, replay

    rep = command(
        sub, "replay", "republish a time window of the archive stream", replay.run, prints=True
    )
    replay.add_arguments(rep)
    back = command(
        sub,
        "backfill",
        "publish what Sinch's list APIs hold for a window",
        backfill.run,
        prints=True,
    )
    backfill.add_arguments(back)


def sections() -> tuple[Section, ...]:
    """Every settings section of the deployment: the relay's and the consumers' table."""
    from consumers.config import SECTION as CONSUMERS
    from relay.config.settings import SECTIONS

    return (*SECTIONS, CONSUMERS)


def _asyncapi(_: argparse.Namespace, settings: Settings) -> int:
    from relay.contract import asyncapi

    sys.stdout.buffer.write(asyncapi.render(settings) + b"\n")
    sys.stdout.flush()
    return 0
