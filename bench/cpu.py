"""CPU time per request of each process: the relay's workers, RabbitMQ and wrk.

Wall-clock throughput on a shared 2-core machine says little about how the relay would
scale on a bigger one; the CPU each process spends per request answered does. One load
of `--seconds` at 64 connections against `relay serve --workers N` (unpinned), with the
CPU time (user + system, from /proc) of the relay's process tree, of RabbitMQ's node
(`--broker-pid`, if given) and of wrk taken before and after.

`python -m bench.cpu --workers 2 [--seconds 10] [--broker-pid PID]` prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import orjson

from bench import broker, procs, wrk
from bench.broker import Names
from bench.payloads import sample
from tests.support.relay_process import RelayProcess

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def tree_cpu(pid: int) -> dict[int, float]:
    return {p: cpu_seconds(p) for p in procs.tree(pid)}


async def measure(url: str, workers: int, seconds: float, broker_pid: int | None) -> dict[str, Any]:
    names = Names(uuid.uuid4().hex[:8])
    with tempfile.TemporaryDirectory(prefix="relay-cpu-") as tmp:
        work = Path(tmp)
        script = wrk.write_script(sample(512), work / "post.lua")
        extra = ["--workers", str(workers)] if workers > 1 else []
        relay = RelayProcess(
            names.relay_env(url), work / "relay.log", args=extra, base_env=os.environ
        )
        try:
            async with procs.running(relay) as child:
                await broker.bind_relay_sink(url, names)
                return await _load(child, script, seconds, broker_pid)
        finally:
            await broker.delete(url, *names.relay_objects())


async def _load(
    child: procs.Server, script: Path, seconds: float, broker_pid: int | None
) -> dict[str, Any]:
    spec = wrk.LoadSpec(connections=64, seconds=seconds, max_requests=10_000_000)
    before = tree_cpu(child.pid)
    broker_before = cpu_seconds(broker_pid) if broker_pid else 0.0
    result = await wrk.run(child.url, script, spec)
    after = tree_cpu(child.pid)
    broker_after = cpu_seconds(broker_pid) if broker_pid else 0.0
    answered = result["ok"] + result["non2xx"]
    per_process = {
        str(p): round((after[p] - before.get(p, 0.0)) / answered * 1e6, 1)
        for p in after
        if answered
    }
    return {
        "rps": round(result["rps"]),
        "answered": answered,
        "non2xx": result["non2xx"],
        "relay_us_per_request": round(sum(per_process.values()), 1),
        "relay_us_per_request_by_process": per_process,
        "relay_cores": round(sum(after[p] - before.get(p, 0.0) for p in after) / seconds, 2),
        "broker_us_per_request": round((broker_after - broker_before) / answered * 1e6, 1)
        if broker_pid and answered
        else None,
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--broker-pid", type=int)
    p.add_argument(
        "--amqp-url",
        default=os.environ.get("RELAY_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    )
    a = p.parse_args()
    result = asyncio.run(measure(a.amqp_url, a.workers, a.seconds, a.broker_pid))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
