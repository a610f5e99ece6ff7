"""`relay simulate`: send realistic Sinch callbacks to a relay, paced and bounded.

Cycles through all seven callback types (relay.contract.samples), optionally HMAC-signed as Sinch
signs them (relay.signing), at `--rate` per second with at most `--concurrency` in
flight, for exactly `--count` requests. A progress line goes to stderr; the summary of
status codes and latency percentiles to stdout. Exit code 0 only if every answer was 2xx.
A base URL (no path) sends each type to its channel's path; a URL with a path gets all.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import math
import random
import time
from urllib.parse import urlsplit

import aiohttp

from relay.contract import samples
from relay.contract.routing import FLOW_PATHS, ROUTES
from relay.edge.auth import signature
from relay.recovery.console import Progress

MAX_COUNT = 1_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What to send: where, how many, how fast, signed with which secret."""

    url: str
    count: int = 70
    rate: float = 20.0
    concurrency: int = 16
    secret: str | None = None
    seed: int | None = None
    timeout: float = 10.0


@dataclasses.dataclass(slots=True)
class Summary:
    """Answers by status (or client error name) and every request's latency in seconds."""

    statuses: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    latencies: list[float] = dataclasses.field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.startswith("2") for s in self.statuses)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in seconds (0.0 when none)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]

    def render(self) -> str:
        sent = sum(self.statuses.values())
        rate = sent / self.elapsed if self.elapsed else 0.0
        codes = "  ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        ms = {p: self.percentile(p) * 1000 for p in (50, 90, 99, 100)}
        return (
            f"sent {sent} in {self.elapsed:.2f}s ({rate:.1f}/s)\n"
            f"status  {codes}\n"
            f"latency p50 {ms[50]:.1f} ms  p90 {ms[90]:.1f} ms  "
            f"p99 {ms[99]:.1f} ms  max {ms[100]:.1f} ms"
        )


def target(url: str, type_: str) -> str:
    """The URL one callback goes to: the channel path on a bare base URL, else `url`."""
    if urlsplit(url).path.strip("/"):
        return url
    return url.rstrip("/") + FLOW_PATHS[ROUTES[type_]]


def request(plan: Plan, index: int, rng: random.Random) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers of the `index`-th callback (types in table order)."""
    type_ = list(ROUTES)[index % len(ROUTES)]
    body = samples.sample(type_, rng)
    headers = {"Content-Type": "application/json", "User-Agent": "relay-simulate"}
    if plan.secret:
        headers.update(signature.sign(plan.secret, body))
    return target(plan.url, type_), body, headers


async def simulate(plan: Plan, progress: Progress | None = None) -> Summary:
    """Send `plan.count` callbacks at `plan.rate`/s; return what came back."""
    summary, rng = Summary(), random.Random(plan.seed)
    limit = asyncio.Semaphore(plan.concurrency)
    timeout = aiohttp.ClientTimeout(total=plan.timeout)
    started = time.monotonic()

    def tick(_: object) -> None:
        if progress is not None:
            progress.advance()

    async with aiohttp.ClientSession(timeout=timeout) as session, asyncio.TaskGroup() as tasks:
        for index in range(plan.count):
            await asyncio.sleep(max(0.0, started + index / plan.rate - time.monotonic()))
            await limit.acquire()
            call = _send(session, request(plan, index, rng), summary, limit)
            tasks.create_task(call).add_done_callback(tick)
    summary.elapsed = time.monotonic() - started
    return summary


async def _send(
    session: aiohttp.ClientSession,
    call: tuple[str, bytes, dict[str, str]],
    summary: Summary,
    limit: asyncio.Semaphore,
) -> None:
    url, body, headers = call
    started = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            outcome = str(response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        outcome = exc.__class__.__name__
    finally:
        limit.release()
    summary.latencies.append(time.perf_counter() - started)
    summary.statuses[outcome] += 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="relay base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--count", type=_bounded_int, default=70, help="callbacks to send")
    parser.add_argument("--rate", type=_positive_float, default=20.0, help="callbacks per second")
    parser.add_argument("--concurrency", type=_bounded_int, default=16, help="max in flight")
    parser.add_argument("--secret", help="HMAC-sign as Sinch does, with this secret")
    parser.add_argument("--seed", type=int, help="repeat the same bodies")


def run(args: argparse.Namespace) -> int:
    """Entry point of `relay simulate`: send, print the summary, exit 0 only if all 2xx."""
    plan = Plan(args.url, args.count, args.rate, args.concurrency, args.secret, args.seed)
    progress = Progress(plan.count, "sent")
    summary = asyncio.run(simulate(plan, progress))
    progress.close()
    print(summary.render())
    return 0 if summary.ok else 1


def _bounded_int(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_COUNT}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError("must be > 0 and <= 100000")
    return value
