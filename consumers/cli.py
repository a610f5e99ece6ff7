"""Command line: run a worker, read results back, inspect the DLQ, check health.

python -m consumers delivery-reports | inbound      run a worker until SIGTERM
python -m consumers status BATCH_ID                 delivery status table of a batch
python -m consumers opt-outs [--to NUMBER]          the opt-out list
python -m consumers dlq KIND [--limit N] [--replay] read (or re-drive) the DLQ
python -m consumers health KIND                     exit 0 if broker, queue and store are fine

`--config PATH` (before the command) names the deployment's TOML file; without it
`CONSUMER_CONFIG`, then `RELAY_CONFIG`, then config/relay.toml if present, as for the relay.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from consumers import server
from consumers.amqp import dlq, failover
from consumers.config import (
    SECTION,
    ConfigError,
    WorkerKind,
    WorkerSettings,
    config_path,
    load_settings,
)
from consumers.handlers.delivery_reports import DeliveryReportHandler
from consumers.handlers.inbound import InboundHandler
from consumers.metrics import Metrics
from consumers.processor import Handler
from consumers.store import Store, open_store
from consumers.worker import Worker
from relay.config import LoggingSettings
from relay.config.settings import SECTIONS
from relay.config.variables import warn_unknown_variables
from relay.telemetry.logs import configure as configure_logging

KINDS = [k.value for k in WorkerKind]
DEFAULT_CONFIG = Path("config/relay.toml")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m consumers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"consumers {_version()}")
    p.add_argument(
        "--config",
        type=Path,
        help="TOML settings, [consumers] and [amqp] tables (default: $CONSUMER_CONFIG, "
        f"else $RELAY_CONFIG, else {DEFAULT_CONFIG} if present)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for kind in KINDS:
        sub.add_parser(kind, help=f"run the {kind} worker")
    sub.add_parser("status", help="delivery status of a batch").add_argument("batch_id")
    sub.add_parser("opt-outs", help="list opted-out senders").add_argument(
        "--to", help="only opt-outs from this our-number (default: all)"
    )
    dl = sub.add_parser("dlq", help="read a worker's dead-letter queue")
    dl.add_argument("kind", choices=KINDS)
    dl.add_argument("--limit", type=int, default=20, help="messages to show (default: 20)")
    dl.add_argument("--replay", action="store_true", help="move them back to the worker queue")
    sub.add_parser("health", help="check broker, queue and store").add_argument(
        "kind", choices=KINDS
    )
    return p


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = args.command
    kind = WorkerKind(args.kind if command in ("dlq", "health") else _kind_of(command))
    try:
        env = os.environ if environ is None else environ
        settings = load_settings(kind, env, args.config or config_path(env, DEFAULT_CONFIG))
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    configure_logging(LoggingSettings(level=settings.log_level, format=settings.log_format))
    warn_unknown_variables(env, (*SECTIONS, SECTION))
    if command in KINDS:
        return _run_loop(run_worker(settings))
    if command == "status":
        return _run_loop(print_status(settings, args.batch_id, sys.stdout))
    if command == "opt-outs":
        return _run_loop(print_opt_outs(settings, args.to, sys.stdout))
    if command == "dlq":
        return _run_loop(print_dlq(settings, args.limit, args.replay, sys.stdout))
    return _run_loop(health(settings, sys.stdout))


def _version() -> str:
    try:
        return metadata.version("sinch-sms-relay")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return "unknown (not installed)"


def _kind_of(command: str) -> str:
    return command if command in KINDS else WorkerKind.DELIVERY_REPORTS.value


def _run_loop(coro: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is absent on Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


def handler_for(kind: WorkerKind) -> Handler:
    return DeliveryReportHandler() if kind is WorkerKind.DELIVERY_REPORTS else InboundHandler()


def store_for(settings: WorkerSettings) -> Store:
    return open_store(settings.store_url.reveal(), sqlite_synchronous=settings.sqlite_synchronous)


@contextlib.asynccontextmanager
async def opened_store(settings: WorkerSettings) -> AsyncIterator[Store]:
    """The configured store, open for the block and closed after it."""
    store = store_for(settings)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def run_worker(settings: WorkerSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    metrics = Metrics(settings.queue)
    async with opened_store(settings) as store:
        worker = Worker(settings, handler_for(settings.kind), store, metrics)
        app = server.create_app(lambda: worker.healthy, metrics)
        async with server.serving(app, settings.http_host, settings.http_port):
            await worker.run(stop)
    return 0


async def print_status(settings: WorkerSettings, batch_id: str, out: TextIO) -> int:
    async with opened_store(settings) as store:
        rows = await store.recipient_statuses(batch_id)
        report = await store.batch_report(batch_id)
    _table(
        out,
        ("recipient", "status", "code", "at"),
        [(r.recipient, r.status, r.code, r.at) for r in rows],
    )
    if report is not None:
        out.write(f"\nbatch report ({report.type}), total {report.total_message_count}:\n")
        _table(
            out,
            ("status", "code", "count"),
            [(c.status, c.code, str(c.count)) for c in report.counts],
        )
    if not rows and report is None:
        out.write(f"no delivery reports stored for batch {batch_id}\n")
        return 1
    return 0


async def print_opt_outs(settings: WorkerSettings, to: str | None, out: TextIO) -> int:
    async with opened_store(settings) as store:
        rows = await store.opt_outs(to)
    _table(
        out,
        ("sender", "our number", "keyword", "since"),
        [(o.sender, o.our_number, o.keyword, o.changed_at) for o in rows],
    )
    return 0


async def print_dlq(settings: WorkerSettings, limit: int, replay: bool, out: TextIO) -> int:
    found = await dlq.inspect(settings, limit, replay)
    rows = [(d.message_id, d.type, str(d.attempts), d.reason) for d in found]
    _table(out, ("message_id", "type", "attempts", "reason"), rows)
    if replay:
        out.write(f"replayed {len(found)} message(s) to {settings.queue}\n")
    return 0


async def health(settings: WorkerSettings, out: TextIO) -> int:
    """Exit 0 when the broker answers, the worker queue exists and the store opens."""
    store = store_for(settings)
    try:
        connection = await failover.connect(settings.addresses(), within=5)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(settings.queue, passive=True)
            await store.open()
            await store.ping()
    except Exception as exc:
        out.write(f"unhealthy: {type(exc).__name__}: {exc}\n")
        return 1
    finally:
        await store.close()
    out.write(f"ok: queue {settings.queue} has {queue.declaration_result.message_count} ready, "
              f"{queue.declaration_result.consumer_count} consumer(s)\n")  # fmt: skip
    return 0


def _table(out: TextIO, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    for row in (header, *rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
