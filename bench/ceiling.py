"""The broker ceiling: raw aiormq, persistent messages, publisher confirms, pipelined.

`window` coroutines each publish and await their confirm in a loop, so exactly `window`
publishes are in flight on one confirm channel. No HTTP, no validation, no envelope:
the fastest a single Python process can get confirmed persistent messages into the
queue. `python -m bench.ceiling --url URL --exchange X --window 1024 --seconds 5`
prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import sys
import time
from collections.abc import Iterator

import aiormq
import orjson
from pamqp.commands import Basic

from bench.payloads import Callback, sample

PROPERTIES = Basic.Properties(delivery_mode=2, content_type="application/json")


@dataclasses.dataclass(slots=True)
class Tally:
    acked: int = 0
    failed: int = 0


async def publish_for(
    url: str, exchange: str, window: int, seconds: float, max_messages: int
) -> dict[str, float]:
    """Publish until `seconds` passed or `max_messages` were sent; count the acks."""
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        bodies = itertools.cycle(sample(512))
        tally, budget = Tally(), iter(range(max_messages))
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(_worker(channel, exchange, bodies, budget, deadline, tally) for _ in range(window))
        )
        elapsed = time.perf_counter() - started
    finally:
        await connection.close()
    return {
        "acked": tally.acked,
        "failed": tally.failed,
        "seconds": elapsed,
        "rate": tally.acked / elapsed,
    }


async def _worker(
    channel: aiormq.abc.AbstractChannel,
    exchange: str,
    bodies: Iterator[Callback],
    budget: Iterator[int],
    deadline: float,
    tally: Tally,
) -> None:
    for _ in budget:
        if time.perf_counter() >= deadline:
            return
        cb = next(bodies)
        confirm = await channel.basic_publish(
            cb.body, exchange=exchange, routing_key=cb.type, properties=PROPERTIES, mandatory=True
        )
        if isinstance(confirm, Basic.Ack):
            tally.acked += 1
        else:
            tally.failed += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--exchange", required=True)
    parser.add_argument("--window", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--max-messages", type=int, default=2_000_000)
    a = parser.parse_args()
    coro = publish_for(a.url, a.exchange, a.window, a.seconds, a.max_messages)
    try:
        import uvloop

        result = uvloop.run(coro)
    except ImportError:
        result = asyncio.run(coro)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
