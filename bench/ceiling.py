"""The broker ceiling: raw aiormq, persistent messages, publisher confirms, pipelined.

`window` coroutines each publish and await their confirm in a loop, so exactly `window`
publishes are in flight on one confirm channel. No HTTP, no validation, no envelope:
the fastest a single Python process can get confirmed persistent messages into the
queue. `python -m bench.ceiling --url URL --exchange X --window 1024 --seconds 5`
prints one JSON line. `--copy-to STREAM` also publishes each message to that queue through
the default exchange and waits for both confirms: the broker's side of the relay's archive
copy (docs/recovery.md, "How the archive is wired").
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
    url: str, exchange: str, window: int, seconds: float, max_messages: int, copy_to: str = ""
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
            *(
                _worker(channel, (exchange, copy_to), bodies, budget, deadline, tally)
                for _ in range(window)
            )
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
    target: tuple[str, str],
    bodies: Iterator[Callback],
    budget: Iterator[int],
    deadline: float,
    tally: Tally,
) -> None:
    exchange, copy_to = target
    for _ in budget:
        if time.perf_counter() >= deadline:
            return
        cb = next(bodies)
        sent = channel.basic_publish(
            cb.body, exchange=exchange, routing_key=cb.type, properties=PROPERTIES, mandatory=True
        )
        if copy_to:
            copy = channel.basic_publish(
                cb.body, routing_key=copy_to, properties=PROPERTIES, mandatory=True
            )
            confirm, copied = await asyncio.gather(sent, copy)
            confirm = confirm if isinstance(copied, Basic.Ack) else copied
        else:
            confirm = await sent
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
    parser.add_argument("--copy-to", default="", help="also publish each message to this queue")
    a = parser.parse_args()
    coro = publish_for(a.url, a.exchange, a.window, a.seconds, a.max_messages, a.copy_to)
    try:
        import uvloop

        result = uvloop.run(coro)
    except ImportError:
        result = asyncio.run(coro)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
