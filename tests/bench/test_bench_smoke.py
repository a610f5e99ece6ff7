"""The benchmark runs end to end against the real broker; no timed assertions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def _run(*args: str, timeout: float) -> str:
    """`python -m <args>` from the repo root; its output, once it exited 0."""
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return proc.stdout


def _run_quick(amqp_url: str, out: Path) -> dict[str, Any]:
    stdout = _run("bench", "--quick", "--amqp-url", amqp_url, "--json", str(out), timeout=240)
    assert f"JSON: {out}" in stdout
    result: dict[str, Any] = orjson.loads(out.read_bytes())
    return result


@pytest.mark.timeout(300)
def test_quick_bench_reports_every_row_and_loses_nothing(amqp_url: str, tmp_path: Path) -> None:
    """A --quick run yields ceilings, relay rows, ratios, RSS, consumer rows and lost == 0."""
    result = _run_quick(amqp_url, tmp_path / "bench.json")
    assert set(result) >= {"meta", "ceiling", "http", "ratios", "consumers", "rounds", "lost"}
    assert set(result["ceiling"]) == {"w64 quorum", "w1024 quorum", "w1024 classic"}
    relay = result["http"]["relay (1 process)"]
    assert {"rps", "p50_ms", "p99_ms", "max_ms", "non2xx", "lost", "rss"} <= set(relay)
    assert relay["requests"] > 0
    assert relay["found"] >= relay["requests"] - relay["non2xx"]
    assert relay["lost"] == 0
    assert result["lost"] == 0
    assert relay["rss"]["peak_mb"] > 0
    reference = result["http"]["reference relay (aiohttp + aiormq)"]
    assert reference["requests"] > 0
    assert reference["lost"] == 0
    assert "relay / reference relay" in result["ratios"]
    assert "relay / broker ceiling (w1024, quorum)" in result["ratios"]
    assert "relay / HTTP ceiling" in result["ratios"]
    assert set(result["consumers"]) == {"delivery-reports", "inbound"}
    for row in result["consumers"].values():
        assert row["stored"] == row["messages"]


@pytest.mark.timeout(300)
def test_instruction_count_of_a_request_is_measured() -> None:
    """callgrind counts a bare aiohttp request: a positive, plausible figure."""
    stdout = _run("bench.instructions", "--server", "bare", "--requests", "300", timeout=280)
    figure = stdout.split(":", 1)[1].split("instructions")[0]
    per_request = int(figure.replace(",", ""))
    assert 10_000 < per_request < 10_000_000  # one request is neither free nor a second
