"""Drive load with wrk: a Lua script posts the callbacks round-robin and counts 2xx.

wrk (C, epoll) needs a fraction of a core for tens of thousands of requests per second,
so it is not the bottleneck; the HTTP-ceiling row of every run proves it. Its latency
figures are per request, from the write of the request to the end of the response.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path
from typing import Any

import orjson

from bench.payloads import Callback

INSTALL_HINT = "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu)"
_MARK = "BENCH_JSON "

_LUA = """
local bodies = {
%(bodies)s
}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  reqs = {}
  for i, item in ipairs(bodies) do
    reqs[i] = wrk.format("POST", item[1], {["Content-Type"] = "application/json",
      ["User-Agent"] = "Sinch-Callback/1.0 (bench)"}, item[2])
  end
  n = 0
  ok = 0
  bad = 0
  limit = tonumber(args[1]) or 0
end

function request()
  n = n + 1
  return reqs[(n %% #reqs) + 1]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
  if limit > 0 and ok + bad >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local good, nonok = 0, 0
  for _, t in ipairs(threads) do
    good = good + (t:get("ok") or 0)
    nonok = nonok + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"ok":%%d,"non2xx":%%d,' ..
    '"socket_errors":%%d,"timeouts":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,' ..
    '"max_us":%%d,"mean_us":%%d}\\n',
    summary.requests, summary.duration, good, nonok,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclasses.dataclass(frozen=True, slots=True)
class LoadSpec:
    """How hard and how long: bounded in both time and request count."""

    connections: int
    seconds: float
    max_requests: int
    threads: int = 1
    cpus: frozenset[int] | None = None
    timeout: float = 5.0  # per request; longer under callgrind, where a timeout reconnects


def available() -> bool:
    return shutil.which("wrk") is not None


def write_script(callbacks: list[Callback], path: Path) -> Path:
    """A Lua script that posts `callbacks` round-robin to their channel URLs."""
    for cb in callbacks:
        if b"]==]" in cb.body:
            raise ValueError("a body contains the Lua long-bracket terminator")
    items = ",\n".join(f'  {{"{cb.path}", [==[{cb.body.decode()}]==]}}' for cb in callbacks)
    path.write_text(_LUA % {"bodies": items, "mark": _MARK}, encoding="utf-8")
    return path


async def run(url: str, script: Path, spec: LoadSpec) -> dict[str, Any]:
    """Run wrk once and return its counts and latency percentiles (microseconds)."""
    per_thread = max(1, spec.max_requests // spec.threads)
    argv = [
        *_taskset(spec.cpus),
        "wrk",
        f"-t{spec.threads}",
        f"-c{spec.connections}",
        f"-d{max(1, round(spec.seconds))}s",
        "--timeout",
        f"{spec.timeout:g}s",
        "-s",
        str(script),
        url,
        "--",
        str(per_thread),
    ]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), spec.seconds + 30)
    return _parse(out.decode(), err.decode(), proc.returncode)


def _parse(out: str, err: str, code: int | None) -> dict[str, Any]:
    for line in out.splitlines():
        if line.startswith(_MARK):
            result: dict[str, Any] = orjson.loads(line[len(_MARK) :])
            seconds = result["duration_us"] / 1e6
            result["rps"] = result["requests"] / seconds if seconds else 0.0
            return result
    raise RuntimeError(f"wrk exited {code} without a result: {err.strip() or out.strip()}")


def _taskset(cpus: frozenset[int] | None) -> list[str]:
    if not cpus:
        return []
    return ["taskset", "-c", ",".join(str(c) for c in sorted(cpus))]
