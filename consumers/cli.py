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
from pathlib import Path
from typing import Any, TextIO

import structlog
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from consumers import server
from consumers.amqp import dlq, failover
from consumers.config import (
    ConfigError,
    WorkerKind,
    WorkerSettings,
    config_path,
    env_var,
    load_settings,
    setting_error,
)
from consumers.handlers.delivery_reports import DeliveryReportHandler
from consumers.handlers.inbound import InboundHandler
from consumers.metrics import Metrics
from consumers.processor import Handler
from consumers.store import Store, StoreError, StoreMissing, open_store
from consumers.store import parse as store_address
from consumers.worker import Worker
from relay.config import LoggingSettings
from relay.contract.broker import connect_error
from relay.telemetry.logs import configure as configure_logging

KINDS = [k.value for k in WorkerKind]
DEFAULT_CONFIG = Path("config/relay.toml")
STORE_VAR = env_var("store_url")
log = structlog.get_logger("consumers")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m consumers", description=__doc__.split("\n")[0])
    p.add_argument("--config", type=Path, help="TOML settings ([consumers] and [amqp] tables)")
    sub = p.add_subparsers(dest="command", required=True)
    for kind in KINDS:
        sub.add_parser(kind, help=f"run the {kind} worker")
    sub.add_parser("status", help="delivery status of a batch").add_argument("batch_id")
    sub.add_parser("opt-outs", help="list opted-out senders").add_argument("--to", default=None)
    dl = sub.add_parser("dlq", help="read a worker's dead-letter queue")
    dl.add_argument("kind", choices=KINDS)
    dl.add_argument("--limit", type=int, default=20)
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
    try:
        return _run_loop(_command(args, settings))
    except StoreMissing as exc:
        sys.stderr.write(f"{exc}: a worker creates it when it starts (is {STORE_VAR} right?)\n")
        return 1
    except ConfigError as exc:  # found at start-up: the store or the listener
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2


def _command(args: argparse.Namespace, settings: WorkerSettings) -> Coroutine[Any, Any, int]:
    command = args.command
    if command in KINDS:
        return run_worker(settings)
    if command == "status":
        return print_status(settings, args.batch_id, sys.stdout)
    if command == "opt-outs":
        return print_opt_outs(settings, args.to, sys.stdout)
    if command == "dlq":
        return print_dlq(settings, args.limit, args.replay, sys.stdout)
    return health(settings, sys.stdout)


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


def store_for(settings: WorkerSettings, *, create: bool = True) -> Store:
    url = settings.store_url.reveal()
    return open_store(url, sqlite_synchronous=settings.sqlite_synchronous, create=create)


def store_location(settings: WorkerSettings) -> str:
    """Where the store is, without credentials: for logs and messages."""
    return store_address(settings.store_url.reveal()).location


@contextlib.asynccontextmanager
async def opened_store(settings: WorkerSettings, *, create: bool = True) -> AsyncIterator[Store]:
    """The configured store, open for the block; `create=False` for commands that only read.

    A store that cannot be opened is a `ConfigError` naming the setting; a missing one,
    when not creating, is `StoreMissing`.
    """
    try:
        store = store_for(settings, create=create)
        await store.open()
    except StoreMissing:
        raise
    except StoreError as exc:
        raise setting_error("store_url", f"cannot open {store_location(settings)}: {exc}") from None
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
        log.info("store.opened", store=store_location(settings))
        worker = Worker(settings, handler_for(settings.kind), store, metrics)
        app = server.create_app(lambda: worker.healthy, metrics)
        async with server.serving(app, settings.http_host, settings.http_port):
            await worker.run(stop)
    return 0


async def print_status(settings: WorkerSettings, batch_id: str, out: TextIO) -> int:
    async with opened_store(settings, create=False) as store:
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
    async with opened_store(settings, create=False) as store:
        rows = await store.opt_outs(to)
    _table(
        out,
        ("sender", "our number", "keyword", "since"),
        [(o.sender, o.our_number, o.keyword, o.changed_at) for o in rows],
    )
    return 0


async def print_dlq(settings: WorkerSettings, limit: int, replay: bool, out: TextIO) -> int:
    """The dead letters with the Sinch ids an operator searches for (`id`, `batch_id`)."""
    try:
        found = await dlq.inspect(settings, limit, replay)
    except CONNECTION_EXCEPTIONS as exc:
        out.write(f"cannot read the DLQ: {connect_error(exc)}\n")
        return 1
    rows = [(d.type, d.sinch_id or "-", d.batch_id or "-", str(d.attempts), d.reason,
             d.message_id) for d in found]  # fmt: skip
    _table(out, ("type", "id", "batch_id", "attempts", "reason", "message_id"), rows)
    if replay:
        out.write(f"replayed {len(found)} message(s) to {settings.queue}\n")
    return 0


async def health(settings: WorkerSettings, out: TextIO) -> int:
    """Exit 0 when the broker answers, the worker queue exists and the store opens."""
    try:
        ready, consumers = await _queue_counts(settings)
    except CONNECTION_EXCEPTIONS as exc:
        out.write(f"unhealthy: broker: {connect_error(exc)}\n")
        return 1
    try:
        async with opened_store(settings, create=False) as store:
            await store.ping()
    except (StoreError, ConfigError) as exc:
        out.write(f"unhealthy: store: {exc}\n")
        return 1
    except Exception as exc:
        out.write(f"unhealthy: store: {type(exc).__name__}\n")
        return 1
    out.write(f"ok: queue {settings.queue} has {ready} ready, {consumers} consumer(s)\n")
    return 0


async def _queue_counts(settings: WorkerSettings) -> tuple[int, int]:
    """Messages ready in the worker queue and consumers on it (the queue must exist)."""
    connection = await failover.connect(settings.addresses(), within=5)
    async with connection:
        channel = await connection.channel()
        result = (await channel.declare_queue(settings.queue, passive=True)).declaration_result
        return result.message_count or 0, result.consumer_count or 0


def _table(out: TextIO, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    for row in (header, *rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
