"""One measurement each: broker ceiling, HTTP ceiling, relay round. Servers live outside."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from bench import broker, procs, wrk
from bench.options import Options

QUEUE_KINDS = ("quorum", "classic")


@dataclasses.dataclass(frozen=True, slots=True)
class Context:
    """What every phase of one run shares."""

    opts: Options
    names: broker.Names
    script: Path
    logs: Path

    @property
    def load_cpus(self) -> frozenset[int] | None:
        return self.opts.cpus[0] if self.opts.cpus else None

    @property
    def server_cpus(self) -> frozenset[int] | None:
        return self.opts.cpus[1] if self.opts.cpus else None

    def load(self, seconds: float, *, pinned: bool = True) -> wrk.LoadSpec:
        return wrk.LoadSpec(
            connections=self.opts.connections,
            seconds=seconds,
            max_requests=self.opts.max_requests,
            cpus=self.load_cpus if pinned else None,
        )


async def prepare_ceiling(ctx: Context) -> None:
    """One durable topic exchange and one bound durable queue per queue type."""
    async with broker.channel(ctx.opts.amqp_url) as ch:
        for kind in QUEUE_KINDS:
            await broker.topic_exchange(ch, ctx.names.exchange(f"ceiling.{kind}"))
            exchanges = [ctx.names.exchange(f"ceiling.{kind}")]
            await broker.sink(ch, ctx.names.queue(f"ceiling.{kind}"), exchanges, kind)


async def prepare_archive_ceiling(ctx: Context) -> None:
    """The two ways to archive, side by side on the quorum ceiling's exchange: a stream for
    a second publish, and an intake exchange bound to that exchange and to a stream."""
    async with broker.channel(ctx.opts.amqp_url) as ch:
        for stream in ("ceiling.archive", "ceiling.intake.archive"):
            await ch.queue_declare(
                ctx.names.queue(stream), durable=True, arguments={"x-queue-type": "stream"}
            )
        intake = ctx.names.exchange("ceiling.intake")
        await broker.topic_exchange(ch, intake)
        await ch.exchange_bind(ctx.names.exchange("ceiling.quorum"), intake, routing_key="#")
        await ch.queue_bind(ctx.names.queue("ceiling.intake.archive"), intake, routing_key="#")


async def ceiling(
    ctx: Context, window: int, kind: str, exchange: str = "", copy_to: str = ""
) -> dict[str, Any]:
    """Raw confirmed publishes from a child process on the servers' core (into the `kind`
    ceiling queue, by its own exchange unless `exchange` is given; `copy_to`: see
    bench/ceiling.py)."""
    argv = [
        *procs.taskset(ctx.server_cpus), sys.executable, "-m", "bench.ceiling",
        "--url", ctx.opts.amqp_url,
        "--exchange", exchange or ctx.names.exchange(f"ceiling.{kind}"),
        "--window", str(window), "--seconds", str(ctx.opts.ceiling_seconds),
        "--max-messages", str(ctx.opts.max_requests), "--copy-to", copy_to,
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), ctx.opts.ceiling_seconds + 60)
    if proc.returncode:
        raise RuntimeError(f"bench.ceiling exited {proc.returncode}")
    result: dict[str, Any] = orjson.loads(out)
    queue = ctx.names.queue(f"ceiling.{kind}")
    async with broker.channel(ctx.opts.amqp_url) as ch:
        result["found"] = await broker.settled_count(ch, queue)
        await broker.purge(ch, queue)
    return result


async def http_load(ctx: Context, url: str, seconds: float, pinned: bool) -> dict[str, Any]:
    return await wrk.run(url, ctx.script, ctx.load(seconds, pinned=pinned))


async def bind_sink(ctx: Context) -> str:
    """A quorum queue bound with '#' to both relay exchanges: where `lost` is counted."""
    return await broker.bind_relay_sink(ctx.opts.amqp_url, ctx.names)


async def drain_sink(ctx: Context, queue: str) -> None:
    async with broker.channel(ctx.opts.amqp_url) as ch:
        await broker.settled_count(ch, queue)
        await broker.purge(ch, queue)


async def relay_round(
    ctx: Context, child: procs.Server, sink: str, seconds: float, pinned: bool
) -> dict[str, Any]:
    """Load the relay, then compare 2xx answers with the messages that reached the sink."""
    await drain_sink(ctx, sink)
    sampler = procs.RssSampler(child.pid)
    sampling = asyncio.create_task(sampler.run())
    try:
        result = await http_load(ctx, child.url, seconds, pinned)
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
    async with broker.channel(ctx.opts.amqp_url) as ch:
        found = await broker.settled_count(ch, sink)
        unrouted = await broker.count(ch, ctx.names.topology().unrouted)
        await broker.purge(ch, sink)
    result.update(found=found, unrouted=unrouted, lost=max(0, result["ok"] - found))
    result["published_unanswered"] = max(0, found - result["ok"])
    result["rss"] = sampler.summary()
    return result


async def cleanup(ctx: Context) -> None:
    """Delete every queue and exchange this run may have created."""
    queues, exchanges = ctx.names.relay_objects()
    queues += [ctx.names.queue(f"ceiling.{k}") for k in QUEUE_KINDS]
    queues += [ctx.names.queue(f"ceiling.{k}") for k in ("archive", "intake.archive")]
    exchanges += [ctx.names.exchange(f"ceiling.{k}") for k in (*QUEUE_KINDS, "intake")]
    await broker.delete(ctx.opts.amqp_url, queues, exchanges)
