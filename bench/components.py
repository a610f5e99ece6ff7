"""Instructions per callback, component by component: each step of the request path alone.

`bench.instructions` gives what a whole callback costs; this says where it goes. One
Python process runs each component `--calls` times on realistic inputs (the bench's
callback bodies, wrk's request headers), under callgrind with a profile dump before
every `os.getppid()`; each component's loop sits between two such calls, so its dump's
total divided by the calls is its cost. An empty loop is measured the same way and
subtracted. `python -m bench.components [--calls 3000]`; needs valgrind.

The HTTP layer (aiohttp's request and response objects, router, server) is measured
end to end instead: `python -m bench.instructions --server bare`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TOTALS = re.compile(rb"^(?:summary|totals): (\d+)", re.MULTILINE)
Step = Callable[[], Any]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.components", description=__doc__)
    p.add_argument("--calls", type=int, default=3000)
    p.add_argument("--only", default="", help="components whose name contains this")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.calls, args.only)
        return 0
    if shutil.which("valgrind") is None:
        print("bench.components: valgrind is not installed", file=sys.stderr)
        return 2
    for name, cost in measure(args.calls, args.only).items():
        print(f"{name:55} {cost:9,.0f}")
    return 0


def measure(calls: int, only: str = "") -> dict[str, float]:
    """Instructions per call of each component (the empty loop's cost taken off)."""
    names = list(_steps(only))
    with tempfile.TemporaryDirectory(prefix="relay-components-") as tmp:
        out = Path(tmp) / "callgrind.out"
        argv = ["valgrind", "--tool=callgrind", "--dump-before=getppid"]
        argv += [f"--callgrind-out-file={out}", sys.executable, "-m", "bench.components"]
        child = [*argv, "--child", "--calls", str(calls), "--only", only]
        subprocess.run(child, check=True, capture_output=True)
        parts = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.name.rsplit(".")[-1]))
        totals = [_total(p) for p in parts]
    # Dump 1 is start-up; dump k+1 ends with component k's loop (then the next getppid).
    per_call = [t / calls for t in totals[1 : len(names) + 1]]
    empty = per_call[0]
    return {name: cost - empty for name, cost in zip(names[1:], per_call[1:], strict=True)}


def _total(path: Path) -> int:
    match = _TOTALS.search(path.read_bytes())
    return int(match.group(1)) if match else 0


def _child(calls: int, only: str) -> None:
    steps = _steps(only)
    os.getppid()  # dump: start-up
    for step in steps.values():
        for _ in range(calls):
            step()
        os.getppid()  # dump: this component
    os._exit(0)  # the stub channel needs no orderly close


def _steps(only: str) -> dict[str, Step]:
    """Every component as one call on the next realistic input; the empty loop first."""
    from bench import component_steps

    chosen = {k: v for k, v in component_steps.steps().items() if only in k}
    return {"empty loop": lambda: None, **chosen}


if __name__ == "__main__":
    sys.exit(main())
