"""`relay` command line: read the environment once, then hand typed settings down."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from relay.cli import commands
from relay.config import ConfigError, Settings, load_settings
from relay.telemetry import logs as relay_logging

DEFAULT_CONFIG = Path("config/relay.toml")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"relay: configuration error: {exc}", file=sys.stderr)
        return 2
    relay_logging.configure(settings.logging)
    try:
        return int(args.run(args, settings) or 0)
    except ConfigError as exc:  # raised while building the app (e.g. a bad CIDR)
        print(f"relay: configuration error: {exc}", file=sys.stderr)
        return 2


def _settings(config: Path | None) -> Settings:
    env_path = os.environ.get("RELAY_CONFIG")
    path = config or (Path(env_path) if env_path else None)
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    return load_settings(path, os.environ)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from relay.edge.server import serve

    host = args.host or settings.http.host
    port = settings.http.port if args.port is None else args.port
    if args.workers > 1:
        from relay.cli.supervisor import Supervisor

        return Supervisor(_worker_argv(args, host, port), args.workers).run()
    _run(serve(settings, host, port))
    return 0


def _worker_argv(args: argparse.Namespace, host: str, port: int) -> list[str]:
    argv = ["serve", "--host", host, "--port", str(port)]
    return argv + (["--config", str(args.config)] if args.config else [])


def _run(coro: object) -> None:
    try:
        import uvloop

        uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:
        asyncio.run(coro)  # type: ignore[arg-type]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="serve Sinch callbacks and publish them to RabbitMQ")
    serve.add_argument("--host", help="listen address (default: http.host)")
    serve.add_argument("--port", type=int, help="listen port (default: http.port)")
    serve.add_argument(
        "--config",
        type=Path,
        help=f"TOML settings (default: {DEFAULT_CONFIG} if present, or $RELAY_CONFIG)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="relay processes sharing the port (default 1; try one per core)",
    )
    serve.set_defaults(run=_serve)
    commands.add_commands(sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())
