"""Child processes of the bench: start on a free 127.0.0.1 port, wait ready, sample RSS, stop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from tests.support.ports import free_port
from tests.support.relay_process import Server

__all__ = ["RssSampler", "Server", "child_env", "free_port", "running", "server", "taskset"]


def taskset(cpus: frozenset[int] | None) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []


@contextlib.asynccontextmanager
async def server(
    argv: Sequence[str],
    port: int,
    log: Path,
    env: Mapping[str, str] | None = None,
    patience: float = 30.0,
    stop_patience: float = 15.0,
) -> AsyncIterator[Server]:
    """Run `argv` until the block ends; ready once GET /readyz answers 200."""
    async with running(Server(argv, port, log, child_env(env)), patience, stop_patience) as child:
        yield child


@contextlib.asynccontextmanager
async def running(
    child: Server, patience: float = 30.0, stop_patience: float = 15.0
) -> AsyncIterator[Server]:
    """`child` started and ready until the block ends, then stopped (group SIGTERM, SIGKILL)."""
    try:
        await child.start(patience)
        yield child
    finally:
        await child.stop(stop_patience)


def child_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    return env


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants (the relay's workers, if it forks)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return found


def status_kb(pid: int, field: str) -> int:
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM); 0 once the process is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


@dataclasses.dataclass(slots=True)
class RssSampler:
    """Samples the summed RSS of a process tree; keeps the per-process peak (VmHWM)."""

    pid: int
    interval: float = 0.5
    samples: list[tuple[float, int]] = dataclasses.field(default_factory=list)
    hwm_kb: dict[int, int] = dataclasses.field(default_factory=dict)

    async def run(self) -> None:
        started = time.monotonic()
        while True:
            pids = tree(self.pid)
            self.samples.append(
                (time.monotonic() - started, sum(status_kb(p, "VmRSS") for p in pids))
            )
            for p in pids:
                self.hwm_kb[p] = max(self.hwm_kb.get(p, 0), status_kb(p, "VmHWM"))
            await asyncio.sleep(self.interval)

    def summary(self) -> dict[str, float]:
        """Peak, start/end and the growth rate over the second half, in MB."""
        rss = [kb / 1024 for _, kb in self.samples] or [0.0]
        half = self.samples[len(self.samples) // 2 :]
        return {
            "peak_hwm_mb": round(sum(self.hwm_kb.values()) / 1024, 1),
            "max_sampled_mb": round(max(rss), 1),
            "start_mb": round(rss[0], 1),
            "end_mb": round(rss[-1], 1),
            "second_half_slope_mb_per_min": round(_slope(half) * 60 / 1024, 2),
            "samples": len(self.samples),
        }


def _slope(points: list[tuple[float, int]]) -> float:
    if len(points) < 3:
        return 0.0
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (v - my) for t, v in points) / var if var else 0.0
