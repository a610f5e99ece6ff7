"""What one bench run does: durations, load, pinning. Parsed once from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    amqp_url: str
    rounds: int
    duration: float  # seconds of each relay measurement
    ceiling_seconds: float
    http_seconds: float
    warmup: float
    connections: int
    max_requests: int
    workers: int
    consumer_messages: int
    pin: bool
    json_path: Path | None
    keep_logs: bool
    archive: bool = False  # also measure a relay with archive.enabled, in the same rounds

    @property
    def cpus(self) -> tuple[frozenset[int], frozenset[int]] | None:
        """(load generator CPUs, server CPUs) when pinning is on and possible."""
        available = sorted(os.sched_getaffinity(0))
        if not self.pin or len(available) < 2:
            return None
        return frozenset({available[0]}), frozenset({available[1]})


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--amqp-url",
        default=os.environ.get("RELAY_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        help="broker (default $RELAY_AMQP_URL)",
    )
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians reported")
    p.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of each relay measurement (60 for an RSS-flatness run)",
    )
    p.add_argument("--ceiling-seconds", type=float, default=4.0)
    p.add_argument("--http-seconds", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument(
        "--max-requests",
        type=int,
        default=3_000_000,
        help="upper bound on requests of one measurement",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="N for the `relay serve --workers N` column, if the relay has it",
    )
    p.add_argument("--consumer-messages", type=int, default=20_000)
    p.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="do not pin load generator and servers to separate cores",
    )
    p.add_argument("--quick", action="store_true", help="tiny smoke run (seconds, not minutes)")
    p.add_argument("--json", type=Path, help=f"result file (default: {RESULTS}/bench-*.json)")
    p.add_argument("--keep-logs", action="store_true", help="keep the servers' output files")
    p.add_argument(
        "--archive",
        action="store_true",
        help="add a row: the relay with archive.enabled, measured in the same rounds",
    )
    return p


def parse(argv: list[str] | None = None) -> Options:
    a = parser().parse_args(argv)
    if a.quick:
        a.rounds, a.duration, a.ceiling_seconds, a.http_seconds = 1, 1.0, 1.0, 1.0
        a.warmup, a.max_requests, a.consumer_messages = 0.0, 5_000, 500
    return Options(
        amqp_url=a.amqp_url,
        rounds=a.rounds,
        duration=a.duration,
        ceiling_seconds=a.ceiling_seconds,
        http_seconds=a.http_seconds,
        warmup=a.warmup,
        connections=a.connections,
        max_requests=a.max_requests,
        workers=a.workers,
        consumer_messages=a.consumer_messages,
        pin=a.pin,
        json_path=a.json,
        keep_logs=a.keep_logs,
        archive=a.archive,
    )
