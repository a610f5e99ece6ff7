"""The README's "watch a callback arrive" snippet, run as typed, ends with the callbacks in
the queue the user bound."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = re.compile(r"Watch a callback arrive[^\n]*\n\n```sh\n(.*?)```", re.S)
LISTED = re.compile(r"^my\.queue\s+(\d+)$", re.M)


def readme_snippet() -> str:
    found = SNIPPET.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found is not None, "README.md lost its 'Watch a callback arrive' snippet"
    return found.group(1)


def test_the_snippet_waits_for_readiness_and_cleans_up() -> None:
    """What the issue asked of it: wait for /readyz, remove the example queue, stop the run."""
    lines = readme_snippet().splitlines()
    assert lines[0].startswith("make run &")
    assert "/readyz" in lines[1]
    assert any("delete_queue my.queue" in line for line in lines)


def test_the_snippet_typed_literally_shows_the_seven_callbacks(amqp_url: str) -> None:
    """Run line by line in one shell (job control on, so `kill %1` works), from the repo,
    with the local broker; the run's whole process group is stopped afterwards."""
    script = "set -m\nset -e\n" + readme_snippet()
    env = {**os.environ, "RELAY_AMQP_URL": amqp_url}
    shell = subprocess.Popen(
        ["bash", "-c", script], cwd=ROOT, env=env, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = shell.communicate(timeout=240)
    finally:
        _stop_group(shell.pid)
    assert shell.returncode == 0, out[-3000:]
    counts = [int(n) for n in LISTED.findall(out)]
    assert counts == [7], out[-3000:]


def _stop_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
