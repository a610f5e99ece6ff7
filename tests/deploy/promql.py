"""Just enough PromQL reading to name the metrics and label matchers of an expression."""

from __future__ import annotations

import dataclasses
import re

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_SELECTOR = re.compile(r"([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*@(\d+)@")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"(?<![\w.$@])([a-zA-Z_:][\w:]*)(\s*\()?")
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
FUNCTIONS = frozenset(
    [
        "sum",
        "avg",
        "min",
        "max",
        "count",
        "topk",
        "bottomk",
        "quantile",
        "stddev",
        "rate",
        "irate",
        "increase",
        "delta",
        "deriv",
        "histogram_quantile",
        "abs",
        "absent",
        "absent_over_time",
        "clamp_min",
        "clamp_max",
        "max_over_time",
        "min_over_time",
        "avg_over_time",
        "sum_over_time",
        "vector",
        "scalar",
        "time",
        "label_replace",
    ]
)


@dataclasses.dataclass(frozen=True)
class Matcher:
    metric: str
    label: str
    op: str
    value: str


def _masked(expr: str) -> tuple[str, list[str]]:
    """The expression with each string literal replaced by @N@, and the literals' values."""
    values: list[str] = []

    def keep(match: re.Match[str]) -> str:
        values.append(match.group(0)[1:-1])
        return f"@{len(values) - 1}@"

    return _STRING.sub(keep, expr), values


def metric_names(expr: str) -> set[str]:
    """Every metric name the expression selects; unknown functions fail loudly."""
    text, _ = _masked(expr)
    text = _RANGE.sub("", _GROUPING.sub("", _SELECTOR.sub(r"\1", text)))
    names = set()
    for name, call in _IDENT.findall(text):
        if call:
            assert name in FUNCTIONS, f"unknown PromQL function {name} in {expr}"
        elif name not in KEYWORDS:
            names.add(name)
    return names


def matchers(expr: str) -> list[Matcher]:
    """Each label matcher with the metric it filters (`{...}` right after a name)."""
    text, values = _masked(expr)
    return [
        Matcher(metric or "", label, op, values[int(index)])
        for metric, body in _SELECTOR.findall(text)
        for label, op, index in _MATCHER.findall(body)
    ]
