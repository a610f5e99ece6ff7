"""Per-function inclusive instructions per request, from two callgrind files.

`python -m bench.instructions --keep DIR` leaves `callgrind.0.out` (start and stop, no
load) and `callgrind.N.out` (N callbacks); this runs `callgrind_annotate --inclusive=yes`
on both and prints (loaded - idle) / N per function, largest first. Python 3.11 shows
Python code only as the interpreter's C functions, so the C libraries' shares are exact
(llhttp, orjson, hashlib, struct, multidict, datetime) and the Python parts are not:
bench.components measures those one by one.

`python -m bench.cgdiff DIR/callgrind.0.out DIR/callgrind.3000.out 3000 [REGEX]`
"""

from __future__ import annotations

import re
import subprocess
import sys

_LINE = re.compile(r"\s*([\d,]+) \([^)]*\)\s+(.*)$")
_MIN = 500  # instructions per request below which a function is not listed


def inclusive(path: str) -> dict[str, int]:
    """Function name -> inclusive instructions, as callgrind_annotate reports them."""
    argv = ["callgrind_annotate", "--inclusive=yes", "--threshold=100", path]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    found: dict[str, int] = {}
    for line in out.splitlines():
        match = _LINE.match(line)
        if match and "'" not in match.group(2):  # 'N: a recursion level, counted already
            name = _short(match.group(2))
            found[name] = max(found.get(name, 0), int(match.group(1).replace(",", "")))
    return found


def _short(name: str) -> str:
    name = re.sub(r"^/tmp/python-build[^:]*/", "", name)
    name = re.sub(r"^/project/", "", name)
    return re.sub(r" \[.*\]$", "", name)


def per_request(idle: str, loaded: str, requests: int) -> list[tuple[float, str]]:
    before, after = inclusive(idle), inclusive(loaded)
    rows = [((after[k] - before.get(k, 0)) / requests, k) for k in after]
    return sorted((r for r in rows if r[0] >= _MIN), reverse=True)


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    wanted = re.compile(argv[3]) if len(argv) == 4 else None
    for cost, name in per_request(argv[0], argv[1], int(argv[2])):
        if wanted is None or wanted.search(name):
            print(f"{cost:10,.0f}  {name[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
