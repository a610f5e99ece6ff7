"""Fold the rounds into medians and ratios; print the table."""

from __future__ import annotations

import statistics
from typing import Any

Row = dict[str, Any]


def http_row(rounds: list[Row]) -> Row:
    """Median throughput and latency over rounds; worst max; summed counts."""
    row: Row = {
        "rps": statistics.median(r["rps"] for r in rounds),
        "rps_per_round": [round(r["rps"]) for r in rounds],
        "p50_ms": statistics.median(r["p50_us"] for r in rounds) / 1000,
        "p99_ms": statistics.median(r["p99_us"] for r in rounds) / 1000,
        "max_ms": max(r["max_us"] for r in rounds) / 1000,
        "requests": sum(r["requests"] for r in rounds),
        "non2xx": sum(r["non2xx"] for r in rounds),
        "socket_errors": sum(r["socket_errors"] + r["timeouts"] for r in rounds),
    }
    if "lost" in rounds[0]:
        row["lost"] = sum(r["lost"] for r in rounds)
        row["found"] = sum(r["found"] for r in rounds)
        row["unrouted"] = sum(r["unrouted"] for r in rounds)
        row["published_unanswered"] = sum(r["published_unanswered"] for r in rounds)
        row["rss"] = rss(rounds)
    return row


def rss(rounds: list[Row]) -> Row:
    last = rounds[-1]["rss"]
    return {
        "peak_mb": max(r["rss"]["peak_hwm_mb"] for r in rounds),
        "last_round": last,
    }


def ceiling_row(rounds: list[Row]) -> Row:
    return {
        "rate": statistics.median(r["rate"] for r in rounds),
        "rate_per_round": [round(r["rate"]) for r in rounds],
        "acked": sum(r["acked"] for r in rounds),
        "failed": sum(r["failed"] for r in rounds),
        "found": sum(r["found"] for r in rounds),
    }


def ratio(top: list[Row], bottom: list[Row], top_key: str, bottom_key: str) -> Row:
    """Median of the per-round ratios (both figures from the same round), and its range."""
    each = [t[top_key] / b[bottom_key] for t, b in zip(top, bottom, strict=True) if b[bottom_key]]
    if not each:
        return {"median": 0.0, "min": 0.0, "max": 0.0}
    return {
        "median": round(statistics.median(each), 3),
        "min": round(min(each), 3),
        "max": round(max(each), 3),
    }


def table(result: Row) -> str:
    lines = [
        f"{'row':40} {'per s':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'non2xx':>6} {'lost':>5} {'RSS MB':>7}",
    ]
    for name, row in result["ceiling"].items():
        lines.append(f"{'broker ceiling ' + name:40} {row['rate']:9.0f}")
    for name, row in result["http"].items():
        lines.append(_http_line(name, row))
    for name, note in result.get("skipped", {}).items():
        lines.append(f"{name:40} skipped: {note}")
    for name, row in result.get("consumers", {}).items():
        lines.append(f"{'consumer ' + name:40} {row['rate']:9.0f}  ({row['store']})")
    lines.append("")
    for name, r in result["ratios"].items():
        lines.append(f"{name:55} {r['median']:.3f}  (rounds {r['min']:.3f}..{r['max']:.3f})")
    return "\n".join(lines)


def _http_line(name: str, row: Row) -> str:
    lost = str(row["lost"]) if "lost" in row else ""
    rss_mb = f"{row['rss']['peak_mb']:.0f}" if "rss" in row else ""
    return (
        f"{name:40} {row['rps']:9.0f} {row['p50_ms']:7.2f} {row['p99_ms']:7.2f} "
        f"{row['max_ms']:7.1f} {row['non2xx']:6d} {lost:>5} {rss_mb:>7}"
    )
