"""deploy/grafana: the dashboard queries only metrics and labels that exist."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deploy import exported, promql
from tests.deploy.test_alerts import queue_names
from tests.deploy.tools import DEPLOY

DASHBOARD: dict[str, Any] = json.loads(
    (DEPLOY / "grafana" / "sinch-sms-relay.json").read_text(encoding="utf-8")
)
QUERIES = [t["expr"] for panel in DASHBOARD["panels"] for t in panel["targets"]]


def test_every_panel_has_a_query() -> None:
    """No empty panel, and panel ids are unique (Grafana keys panels by id)."""
    panels = DASHBOARD["panels"]
    assert panels
    assert all(panel["targets"] for panel in panels)
    assert len({p["id"] for p in panels}) == len(panels)


@pytest.mark.parametrize("expr", QUERIES)
def test_queries_name_exported_metrics(expr: str) -> None:
    """Each query reads metrics the relay, a consumer or the broker plugin exports."""
    names = promql.metric_names(expr)
    assert names
    assert names - exported.all_known().keys() == set()


@pytest.mark.parametrize("expr", QUERIES)
def test_query_matchers_use_real_labels_and_queues(expr: str) -> None:
    """Matchers name labels of their metric; queue patterns match real queues."""
    known = exported.all_known()
    for m in promql.matchers(expr):
        assert m.label in known[m.metric], m
        if m.label == "queue":
            assert any(re.fullmatch(m.value, q) for q in queue_names()), m
