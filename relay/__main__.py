"""relay: serve Sinch SMS callbacks and publish them to RabbitMQ with confirms.

Settings come from a TOML file (--config, else $RELAY_CONFIG, else config/relay.toml if
present) and RELAY_<SECTION>_<KEY> variables; `relay config --reference` lists them all.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata
from pathlib import Path

from relay.cli import commands
from relay.cli.serve import DEFAULT_CONFIG
from relay.config import ConfigError, Settings, load_settings
from relay.config.variables import warn_unknown_variables
from relay.telemetry import logs as relay_logging

DISTRIBUTION = "sinch-sms-relay"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if not args.needs_settings:  # read nothing it does not use: no unrelated failure
            return int(args.run(args) or 0)
        settings = _settings(getattr(args, "config", None))
        relay_logging.configure(settings.logging, sys.stderr if args.prints else None)
        if not getattr(args, "share_port", False):  # a --workers child: its parent said it
            warn_unknown_variables(os.environ, commands.sections())
        return int(args.run(args, settings) or 0)
    except ConfigError as exc:  # also raised while building the app (e.g. a bad CIDR)
        print(f"relay: configuration error: {exc}", file=sys.stderr)
        return 2


def _settings(config: Path | None) -> Settings:
    env_path = os.environ.get("RELAY_CONFIG")
    path = config or (Path(env_path) if env_path else None)
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    return load_settings(path, os.environ)


def version() -> str:
    """The installed distribution's version (package metadata, as pip shows it)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relay", description=__doc__, formatter_class=commands.HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"relay {version()}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    commands.add_commands(sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())
