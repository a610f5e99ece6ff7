"""Instructions per request: the relay under valgrind's callgrind, a repeatable cost.

Wall-clock figures on a shared 2-core machine drift between identical runs by more
than most single optimisations move them. callgrind counts the instructions a process
executes (user space only, not the kernel's share), the same count for the same code
and load whatever else the machine is doing. Two runs: the server started and stopped
with no load, and with `--requests` callbacks from wrk (64 connections); the difference
divided by the requests is what one request costs.

`python -m bench.instructions [--requests 3000] [--server relay|reference|bare] [--archive]
[--keep DIR]`; needs valgrind. `--archive` measures the relay twice in one run, with
`archive.enabled` off and on, and prints both and their ratio. `--keep DIR` keeps the
callgrind files there, for `callgrind_annotate --inclusive=yes DIR/callgrind.3000.out`
(per-function totals).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from bench import broker, procs, wrk
from bench.broker import Names
from bench.payloads import sample

_TOTALS = re.compile(rb"^(?:summary|totals): (\d+)", re.MULTILINE)
_START_PATIENCE = 300.0  # Python under callgrind starts many times slower
_REQUESTS_PER_SECOND = 10  # a floor under callgrind on a busy machine; wrk stops at the count


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for tool in ("valgrind", "wrk"):
        if shutil.which(tool) is None:
            print(f"bench.instructions: {tool} is not installed", file=sys.stderr)
            return 2
    if args.archive:
        return _archive_pair(args.requests, args.amqp_url)
    per_request = asyncio.run(measure(args.server, args.requests, args.amqp_url, args.keep))
    print(f"{args.server}: {per_request:,.0f} instructions per request ({args.requests} requests)")
    return 0


def _archive_pair(requests: int, amqp_url: str) -> int:
    """The relay with the archive off, then on, in one run: both counts and their ratio."""
    off = asyncio.run(measure("relay", requests, amqp_url))
    on = asyncio.run(measure("relay", requests, amqp_url, archive=True))
    for label, value in (("archive off", off), ("archive on", on)):
        print(f"relay, {label}: {value:,.0f} instructions per request ({requests} requests)")
    print(f"archive on / off: {on / off:.3f}")
    return 0


async def measure(
    server: str,
    requests: int,
    amqp_url: str,
    keep: Path | None = None,
    archive: bool = False,
) -> float:
    """Instructions of `requests` callbacks minus those of an idle start and stop.

    With `keep`, both callgrind files are copied there before the work directory goes.
    """
    names = Names(uuid.uuid4().hex[:8])
    with tempfile.TemporaryDirectory(prefix="relay-instructions-") as tmp:
        work = Path(tmp)
        script = wrk.write_script(sample(512), work / "post.lua")
        try:
            idle, loaded = await asyncio.gather(
                _count(server, 0, work, script, names, amqp_url, archive),
                _count(server, requests, work, script, names, amqp_url, archive),
            )
        finally:
            await _cleanup(names, amqp_url)
            if keep is not None:
                _keep(work, keep)
    return (loaded - idle) / requests


def _keep(work: Path, keep: Path) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    for found in work.glob("callgrind.*.out"):
        shutil.copy(found, keep / found.name)


async def _count(
    server: str,
    requests: int,
    work: Path,
    script: Path,
    names: Names,
    amqp_url: str,
    archive: bool = False,
) -> int:
    out = work / f"callgrind.{requests}.out"
    port = procs.free_port()
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
    argv += _server_args(server, port, names, amqp_url)
    env = _relay_env(names, amqp_url, archive) if server == "relay" else {}
    log = work / f"{server}.{requests}.log"
    async with procs.server(argv, port, log, env, _START_PATIENCE, _START_PATIENCE) as child:
        if requests:
            await _load(child.url, script, requests, names, amqp_url, server)
    return _instructions(out)


async def _load(
    url: str, script: Path, requests: int, names: Names, amqp_url: str, server: str
) -> None:
    if server == "relay":  # a queue holds every message, as in `python -m bench`
        await broker.bind_relay_sink(amqp_url, names)
    elif server == "reference":
        await broker.bind_reference_sink(amqp_url, names)
    seconds = requests / _REQUESTS_PER_SECOND + 10
    spec = wrk.LoadSpec(connections=64, seconds=seconds, max_requests=requests, timeout=120)
    result = await wrk.run(url, script, spec)
    if result["ok"] + result["non2xx"] < requests:
        raise RuntimeError(f"only {result['ok']} of {requests} requests answered: {result}")
    if result["timeouts"] or result["socket_errors"]:  # reconnects would be counted too
        raise RuntimeError(f"wrk timed out or lost connections, count not comparable: {result}")


def _server_args(server: str, port: int, names: Names, amqp_url: str) -> list[str]:
    if server == "bare":
        return ["-m", "bench.bare_http", "--port", str(port)]
    if server == "reference":
        exchange = ["--exchange", names.reference_exchange()]
        return ["-m", "bench.reference_relay", "--port", str(port), "--url", amqp_url, *exchange]
    return ["-m", "relay", "serve", "--host", "127.0.0.1", "--port", str(port)]


def _relay_env(names: Names, amqp_url: str, archive: bool) -> dict[str, str]:
    confirm = {"RELAY_AMQP_CONFIRM_TIMEOUT": "60"}  # callgrind slows the relay, not RabbitMQ
    return names.relay_env(amqp_url, archive) | confirm


def _instructions(path: Path) -> int:
    match = _TOTALS.search(path.read_bytes())
    if match is None:
        raise RuntimeError(f"no instruction total in {path}")
    return int(match.group(1))


async def _cleanup(names: Names, amqp_url: str) -> None:
    await broker.delete(amqp_url, *names.relay_objects())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--server", choices=("relay", "reference", "bare"), default="relay")
    p.add_argument("--archive", action="store_true", help="the relay with archive off, then on")
    p.add_argument("--keep", type=Path, help="keep the callgrind files in this directory")
    p.add_argument(
        "--amqp-url",
        default=os.environ.get("RELAY_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    )
    return p


if __name__ == "__main__":
    sys.exit(main())
