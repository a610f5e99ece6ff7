"""`python -m bench`: broker ceiling, HTTP ceiling, reference relay and relay, side by side.

Rounds are interleaved (ceilings, bare server, reference relay, relay, relay --workers),
so drift on a shared machine hits every row alike; ratios are medians of per-round ratios.
The reference relay (bench/reference_relay.py) is the hand-written aiohttp + aiormq relay
every change is held against; its messages are counted in the same sink (`lost`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

from bench import broker, consumer_drain, phases, procs, report, wrk
from bench.options import RESULTS, Options, parse
from bench.payloads import sample, size_summary
from tests.support.relay_process import RelayProcess

Rounds = dict[str, list[dict[str, Any]]]


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    if not wrk.available():
        print(f"bench: {wrk.INSTALL_HINT}", file=sys.stderr)
        return 2
    result = _run_loop(run(opts))
    path = _write(result, opts.json_path)
    print(report.table(result))
    print(f"\n{result['meta']['pinning']}\nJSON: {path}")
    return 0


def _run_loop(coro: Any) -> dict[str, Any]:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


async def run(opts: Options) -> dict[str, Any]:
    """Every measurement of one run, folded into rows, ratios and metadata."""
    logs = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    callbacks = sample(512)
    ctx = phases.Context(opts, _names(), wrk.write_script(callbacks, logs / "post.lua"), logs)
    try:
        rounds, skipped = await _measure(ctx)
        consumers, consumer_skip = await consumer_drain.measure(ctx)
    finally:
        await phases.cleanup(ctx)
        if not opts.keep_logs:
            shutil.rmtree(logs, ignore_errors=True)
    skipped.update(consumer_skip)
    return _fold(ctx, rounds, skipped, consumers, size_summary(callbacks))


def _names() -> Any:
    from bench.broker import Names

    return Names(uuid.uuid4().hex[:8])


async def _measure(ctx: phases.Context) -> tuple[Rounds, dict[str, str]]:
    rounds: Rounds = {}
    skipped: dict[str, str] = {}
    relays: dict[str, procs.Server] = {}  # extra relay rows, each measured every round
    workers = _workers_flag(ctx.opts.workers)
    if workers is None:
        skipped[f"relay --workers {ctx.opts.workers}"] = (
            "`relay serve --help` has no --workers option yet"
        )
    await phases.prepare_ceiling(ctx)
    if ctx.opts.archive:
        await phases.prepare_archive_ceiling(ctx)
    async with contextlib.AsyncExitStack() as stack:
        bare = await stack.enter_async_context(_bare(ctx))
        reference = await stack.enter_async_context(_reference(ctx))
        relay = await stack.enter_async_context(_relay(ctx, [], ctx.server_cpus, "relay"))
        if ctx.opts.archive:
            archived = _relay(ctx, [], ctx.server_cpus, "relay-archive", archive=True)
            relays["relay-archive"] = await stack.enter_async_context(archived)
        multi = None
        if workers is not None:
            multi = await stack.enter_async_context(_relay(ctx, workers, None, "relay-workers"))
        sink = await phases.bind_sink(ctx)
        await _warm(ctx, bare, (reference, relay), multi, sink)
        for child in relays.values():
            await phases.http_load(ctx, child.url, ctx.opts.warmup, True)
        for _ in range(ctx.opts.rounds):
            await _round(ctx, rounds, bare, (reference, relay), multi, sink)
            for key, child in relays.items():
                duration = ctx.opts.duration
                rounds.setdefault(key, []).append(
                    await phases.relay_round(ctx, child, sink, duration, True)
                )
    return rounds, skipped


async def _warm(
    ctx: phases.Context,
    bare: procs.Server,
    relays: tuple[procs.Server, procs.Server],
    multi: procs.Server | None,
    sink: str,
) -> None:
    if ctx.opts.warmup <= 0:
        return
    for child, pinned in ((bare, True), (relays[0], True), (relays[1], True), (multi, False)):
        if child is not None:
            await phases.http_load(ctx, child.url, ctx.opts.warmup, pinned)
    await phases.drain_sink(ctx, sink)


async def _round(
    ctx: phases.Context,
    rounds: Rounds,
    bare: procs.Server,
    relays: tuple[procs.Server, procs.Server],
    multi: procs.Server | None,
    sink: str,
) -> None:
    reference, relay = relays

    def add(key: str, value: dict[str, Any]) -> None:
        rounds.setdefault(key, []).append(value)

    add("w64 quorum", await phases.ceiling(ctx, 64, "quorum"))
    add("w1024 quorum", await phases.ceiling(ctx, 1024, "quorum"))
    add("w1024 classic", await phases.ceiling(ctx, 1024, "classic"))
    if ctx.opts.archive:
        stream, intake = ctx.names.queue("ceiling.archive"), ctx.names.exchange("ceiling.intake")
        copy = await phases.ceiling(ctx, 1024, "quorum", copy_to=stream)
        add("w1024 quorum+archive copy", copy)
        add("w1024 quorum via intake", await phases.ceiling(ctx, 1024, "quorum", intake))
    add("http", await phases.http_load(ctx, bare.url, ctx.opts.http_seconds, True))
    add("reference", await phases.relay_round(ctx, reference, sink, ctx.opts.duration, True))
    add("relay", await phases.relay_round(ctx, relay, sink, ctx.opts.duration, True))
    if multi is not None:
        add("relay-workers", await phases.relay_round(ctx, multi, sink, ctx.opts.duration, False))


@contextlib.asynccontextmanager
async def _bare(ctx: phases.Context) -> AsyncIterator[procs.Server]:
    port = procs.free_port()
    argv = [
        *procs.taskset(ctx.server_cpus),
        sys.executable,
        "-m",
        "bench.bare_http",
        "--port",
        str(port),
    ]
    async with procs.server(argv, port, ctx.logs / "bare.log") as child:
        yield child


@contextlib.asynccontextmanager
async def _reference(ctx: phases.Context) -> AsyncIterator[procs.Server]:
    """The reference relay on the relay's core; its exchange is bound to the sink."""
    port = procs.free_port()
    argv = [
        *procs.taskset(ctx.server_cpus), sys.executable, "-m", "bench.reference_relay",
        "--port", str(port), "--url", ctx.opts.amqp_url,
        "--exchange", ctx.names.reference_exchange(),
    ]  # fmt: skip
    async with procs.server(argv, port, ctx.logs / "reference.log") as child:
        await broker.bind_reference_sink(ctx.opts.amqp_url, ctx.names)
        yield child


@contextlib.asynccontextmanager
async def _relay(
    ctx: phases.Context,
    extra: list[str],
    cpus: frozenset[int] | None,
    name: str,
    archive: bool = False,
) -> AsyncIterator[procs.Server]:
    command = (*procs.taskset(cpus), sys.executable, "-m", "relay")
    env = ctx.names.relay_env(ctx.opts.amqp_url, archive)
    log = ctx.logs / f"{name}.log"
    relay = RelayProcess(env, log, args=extra, command=command, base_env=os.environ)
    async with procs.running(relay) as child:
        yield child


def _workers_flag(n: int) -> list[str] | None:
    """`--workers N` if this relay has a multi-process mode, else None."""
    out = subprocess.run(
        [sys.executable, "-m", "relay", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return ["--workers", str(n)] if "--workers" in out.stdout else None


def _fold(
    ctx: phases.Context,
    rounds: Rounds,
    skipped: dict[str, str],
    consumers: dict[str, Any],
    sizes: dict[str, int],
) -> dict[str, Any]:
    http = {
        "http ceiling (bare aiohttp, no broker)": report.http_row(rounds["http"]),
        "reference relay (aiohttp + aiormq)": report.http_row(rounds["reference"]),
        "relay (1 process)": report.http_row(rounds["relay"]),
    }
    if "relay-workers" in rounds:
        http[f"relay --workers {ctx.opts.workers}"] = report.http_row(rounds["relay-workers"])
    if "relay-archive" in rounds:
        http["relay (1 process, archive on)"] = report.http_row(rounds["relay-archive"])
    result: dict[str, Any] = {
        "meta": _meta(ctx, sizes),
        "ceiling": {k: report.ceiling_row(v) for k, v in rounds.items() if k.startswith("w")},
        "http": http,
        "ratios": _ratios(rounds),
        "skipped": skipped,
        "consumers": consumers,
        "rounds": rounds,
    }
    relays = ("relay", "relay-workers", "relay-archive", "reference")
    result["lost"] = sum(r["lost"] for k in relays for r in rounds.get(k, []))
    return result


_ARCHIVE_CEILINGS = {
    "w1024 quorum+archive copy": "broker ceiling, archive copy / plain (w1024)",
    "w1024 quorum via intake": "broker ceiling, intake exchange / plain (w1024)",
}


def _ratios(rounds: Rounds) -> dict[str, Any]:
    ratios = {
        "relay / broker ceiling (w1024, quorum)": report.ratio(
            rounds["relay"], rounds["w1024 quorum"], "rps", "rate"
        ),
        "relay / broker ceiling (w64, quorum)": report.ratio(
            rounds["relay"], rounds["w64 quorum"], "rps", "rate"
        ),
        "relay / HTTP ceiling": report.ratio(rounds["relay"], rounds["http"], "rps", "rps"),
        "relay / reference relay": report.ratio(rounds["relay"], rounds["reference"], "rps", "rps"),
        "HTTP ceiling / relay (load generator headroom)": report.ratio(
            rounds["http"], rounds["relay"], "rps", "rps"
        ),
    }
    for variant, label in _ARCHIVE_CEILINGS.items():
        if variant in rounds:
            ratios[label] = report.ratio(rounds[variant], rounds["w1024 quorum"], "rate", "rate")
    if "relay-archive" in rounds:
        ratios["relay archive on / off (throughput)"] = report.ratio(
            rounds["relay-archive"], rounds["relay"], "rps", "rps"
        )
        ratios["relay archive on / off (p99)"] = report.ratio(
            rounds["relay-archive"], rounds["relay"], "p99_us", "p99_us"
        )
    if "relay-workers" in rounds:
        ratios["relay --workers / broker ceiling (w64, quorum)"] = report.ratio(
            rounds["relay-workers"], rounds["w64 quorum"], "rps", "rate"
        )
    return ratios


def _meta(ctx: phases.Context, sizes: dict[str, int]) -> dict[str, Any]:
    o = ctx.opts
    cpus = o.cpus
    pinning = (
        f"pinning: wrk on CPU {sorted(cpus[0])}; relay, bare server and ceiling publisher on "
        f"CPU {sorted(cpus[1])}; RabbitMQ unpinned; relay --workers unpinned"
        if cpus
        else "pinning: off"
    )
    return {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "rounds": o.rounds,
        "relay_seconds": o.duration,
        "ceiling_seconds": o.ceiling_seconds,
        "http_seconds": o.http_seconds,
        "connections": o.connections,
        "load_generator": "wrk -t1 (Lua: 7 Sinch callback types, 512 distinct bodies)",
        "body_bytes_mean": sizes,
        "pinning": pinning,
        "ratios_use": "quorum queues (the relay's sink is quorum); classic shown for reference",
    }


def _write(result: dict[str, Any], path: Path | None) -> Path:
    if path is None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS / f"bench-{stamp}.json"
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return path


if __name__ == "__main__":
    sys.exit(main())
