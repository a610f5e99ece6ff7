"""`relay serve [--workers N]`: serve Sinch callbacks and publish them to RabbitMQ."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from relay.config import ConfigError, HttpSettings, Settings

DEFAULT_CONFIG = Path("config/relay.toml")
PORTS = range(1, 65536)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    http = HttpSettings()
    parser.add_argument("--host", help=f"listen address (default: http.host, {http.host})")
    parser.add_argument(
        "--port", type=int, help=f"listen port, 1-65535 (default: http.port, {http.port})"
    )
    parser.add_argument(
        "--config",
        type=Path,
        help=f"TOML settings (default: $RELAY_CONFIG, else {DEFAULT_CONFIG} if present)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="relay processes sharing the port (try one per core)",
    )
    # Set by the supervisor on its workers only: they, and nothing else, share the port.
    parser.add_argument("--share-port", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """One relay process, or a supervisor of `--workers` processes."""
    host = args.host or settings.http.host
    port = settings.http.port if args.port is None else args.port
    if port not in PORTS:  # the setting is bounded the same way (settings.py)
        raise ConfigError(f"invalid --port {port}: expected 1-65535")
    if args.workers > 1:
        from relay.cli.supervisor import Supervisor

        return Supervisor(_worker_argv(args, host, port), args.workers).run()
    from relay.edge.server import CannotListen, serve

    try:
        _run_loop(serve(settings, host, port, share_port=args.share_port))
    except CannotListen as exc:
        print(f"relay: cannot listen: {exc}", file=sys.stderr)
        return 2
    return 0


def _worker_argv(args: argparse.Namespace, host: str, port: int) -> list[str]:
    argv = ["serve", "--host", host, "--port", str(port), "--share-port"]
    return argv + (["--config", str(args.config)] if args.config else [])


def _run_loop(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is absent on Windows
        asyncio.run(coro)
        return
    uvloop.run(coro)
