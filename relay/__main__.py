"""`relay` command line: read the environment once, then hand typed settings down."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from relay.cli import commands
from relay.cli.serve import DEFAULT_CONFIG
from relay.config import ConfigError, Settings, load_settings
from relay.telemetry import logs as relay_logging


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    commands.add_commands(sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())
