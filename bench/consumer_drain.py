"""Each sample consumer's messages/s draining a pre-filled queue into its default store.

Per worker kind: start it once so it declares its queue and bindings, stop it, publish N
relay-shaped messages (the relay's own envelope code) to its exchange, start it again and
wait until its SQLite store recorded N processed messages. The rate comes from the
store's own `processed_at_us` stamps (first to last batch), so start-up is not counted.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiormq

from bench import broker, phases, procs
from bench.payloads import Callback, callback
from relay.callback import envelope
from relay.callback.validation import classify
from relay.contract.routing import ROUTES, Flow
from tests.support.relay_process import Child

KINDS = {"delivery-reports": Flow.DELIVERY_REPORTS, "inbound": Flow.INBOUND}


async def measure(ctx: phases.Context) -> tuple[dict[str, Any], dict[str, str]]:
    """Rows for every worker kind, or a note saying why none could run."""
    if importlib.util.find_spec("consumers.__main__") is None:
        return {}, {"consumers": "package consumers has no __main__ yet (python -m consumers)"}
    rows: dict[str, Any] = {}
    for kind, channel in KINDS.items():
        rows[kind] = await _drain(ctx, kind, channel)
    return rows, {}


async def _drain(ctx: phases.Context, kind: str, channel: Flow) -> dict[str, Any]:
    store = ctx.logs / f"{kind}.sqlite3"
    env = _env(ctx, kind, channel, store)
    queue = env["CONSUMER_QUEUE"]
    n = ctx.opts.consumer_messages
    try:
        await _run_until(ctx, kind, env, lambda: _queue_exists(ctx, queue))
        await _prefill(ctx, channel, n)
        await _run_until(ctx, kind, env, lambda: _stored(store, n), patience=60.0 + n / 200)
        async with broker.channel(ctx.opts.amqp_url) as ch:
            left = await broker.count(ch, queue)
    finally:
        await _delete_queues(ctx, kind, env)
    rows, first_us, last_us = _processed(store)
    seconds = max((last_us - first_us) / 1e6, 1e-6)
    return {
        "messages": n,
        "stored": rows,
        "left_in_queue": left,
        "seconds": seconds,
        "rate": rows / seconds,
        "store": "sqlite (default, synchronous=FULL)",
    }


async def _delete_queues(ctx: phases.Context, kind: str, env: dict[str, str]) -> None:
    """The worker's queues and dead-letter exchange, removed by its own topology code."""
    import aio_pika

    from consumers.amqp import topology
    from consumers.config import WorkerKind, load_settings

    settings = load_settings(WorkerKind(kind), env)
    connection = await aio_pika.connect(ctx.opts.amqp_url)
    async with connection:
        await topology.delete(await connection.channel(), settings)


def _env(ctx: phases.Context, kind: str, channel: Flow, store: Path) -> dict[str, str]:
    names = ctx.names.topology()
    exchange = names.delivery_reports if channel is Flow.DELIVERY_REPORTS else names.inbound
    return {
        "CONSUMER_AMQP_URL": ctx.opts.amqp_url,
        "CONSUMER_QUEUE": ctx.names.queue(f"consumer.{kind}"),
        "CONSUMER_EXCHANGE": exchange,
        "CONSUMER_UNROUTED_EXCHANGE": names.unrouted,
        "CONSUMER_STORE_URL": f"sqlite:///{store}",
        "CONSUMER_LOG_FORMAT": "json",
    }


async def _run_until(
    ctx: phases.Context, kind: str, env: dict[str, str], done: Any, patience: float = 30.0
) -> None:
    argv = [*procs.taskset(ctx.server_cpus), sys.executable, "-m", "consumers", kind]
    consumer = Child(argv, ctx.logs / f"consumer-{kind}.log", procs.child_env(env))
    consumer.spawn()
    try:
        deadline = time.monotonic() + patience
        while not await done():
            if consumer.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"consumer {kind} did not finish (see {consumer.log.name})")
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()


async def _queue_exists(ctx: phases.Context, queue: str) -> bool:
    try:
        async with broker.channel(ctx.opts.amqp_url) as ch:
            await broker.count(ch, queue)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return False
    return True


async def _stored(store: Path, n: int) -> bool:
    return _processed(store)[0] >= n


def _processed(store: Path) -> tuple[int, int, int]:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute(
                "SELECT count(*), min(processed_at_us), max(processed_at_us) FROM processed"
            ).fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0, 0, 0
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


async def _prefill(ctx: phases.Context, channel: Flow, n: int) -> None:
    """`n` distinct callbacks of `channel`'s types, enveloped as the relay does, confirmed."""
    types = [t for t, c in ROUTES.items() if c is channel]
    rng = random.Random(n)
    messages = [_envelope(ctx, callback(types[i % len(types)], rng)) for i in range(n)]
    connection = await aiormq.connect(ctx.opts.amqp_url)
    try:
        ch = await connection.channel(publisher_confirms=True)
        todo = iter(messages)
        await asyncio.gather(*(_publish_all(ch, todo) for _ in range(256)))
    finally:
        await connection.close()


def _envelope(ctx: phases.Context, cb: Callback) -> envelope.Outgoing:
    received = envelope.Received(f"bench-{id(cb)}", uuid.uuid4().hex, cb.path, ROUTES[cb.type], {})
    return envelope.build(classify(cb.body), cb.body, received, ctx.names.topology(), ())


async def _publish_all(ch: aiormq.abc.AbstractChannel, todo: Any) -> None:
    for m in todo:
        await ch.basic_publish(
            m.body, exchange=m.exchange, routing_key=m.routing_key, properties=m.properties
        )
