"""deploy/prometheus/alerts.yml: valid for promtool, unit-tested, on exported metrics only."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from consumers.config import WorkerKind, defaults_for
from consumers.policy import dead_letter_names
from relay.config import TopologySettings
from tests.deploy import exported, promql
from tests.deploy.tools import DEPLOY, ROOT, run

PROMETHEUS = DEPLOY / "prometheus"
RULES: list[dict[str, Any]] = [
    rule
    for group in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    for rule in group["rules"]
]
UNIT_TESTS = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text(encoding="utf-8"))
ALERTS = [rule["alert"] for rule in RULES]


def queue_names() -> set[str]:
    """Every queue the relay and the consumers declare (retry queues aside)."""
    workers = [defaults_for(kind).queue for kind in WorkerKind]
    dead = [dead_letter_names(queue)[1] for queue in workers]
    return {TopologySettings().unrouted, *workers, *dead}


def test_promtool_checks_the_rules() -> None:
    """`promtool check rules` accepts the file."""
    result = run("promtool", "check", "rules", "alerts.yml", cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    """`promtool test rules`: every fire / stay-quiet case holds."""
    result = run("promtool", "test", "rules", "alerts.test.yml", cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr


def _cases(alert: str) -> list[list[Any]]:
    return [
        case["exp_alerts"]
        for test in UNIT_TESTS["tests"]
        for case in test["alert_rule_test"]
        if case["alertname"] == alert
    ]


@pytest.mark.parametrize("alert", ALERTS)
def test_each_alert_has_a_firing_and_a_quiet_case(alert: str) -> None:
    """The unit tests make the alert fire at least once and stay quiet at least once."""
    cases = _cases(alert)
    assert any(cases), f"{alert} never fires in alerts.test.yml"
    assert [] in cases, f"{alert} has no case where it stays quiet"


@pytest.mark.parametrize("rule", RULES, ids=ALERTS)
def test_alert_metrics_are_exported(rule: dict[str, Any]) -> None:
    """Every metric an alert reads is exported by the relay, a consumer or the broker plugin."""
    names = promql.metric_names(rule["expr"])
    assert names
    assert names - exported.all_known().keys() == set()


@pytest.mark.parametrize("rule", RULES, ids=ALERTS)
def test_alert_label_matchers_use_real_labels_and_queues(rule: dict[str, Any]) -> None:
    """Each matcher names a label its metric has; a queue matcher names real queues."""
    known = exported.all_known()
    for m in promql.matchers(rule["expr"]):
        assert m.label in known[m.metric], m
        if m.label == "queue":
            matched = {q for q in queue_names() if re.fullmatch(m.value, q)}
            assert matched, f"{m.value} matches no queue of {sorted(queue_names())}"


def test_the_rabbitmq_plugin_list_is_only_broker_metrics() -> None:
    """The allowed broker metrics are the plugin's rabbitmq_* names, none of the project's."""
    assert all(name.startswith("rabbitmq_") for name in exported.RABBITMQ_PLUGIN)
    assert exported.RABBITMQ_PLUGIN.keys().isdisjoint(exported.project_samples())


def test_every_metric_was_exercised() -> None:
    """The exported-names check saw a sample of every metric (a new one must be added)."""
    assert exported.families_without_samples(exported.relay_exposition()) == []
    assert exported.families_without_samples(exported.consumer_exposition()) == []


@pytest.mark.parametrize("rule", RULES, ids=ALERTS)
def test_alert_links_to_its_runbook_section(rule: dict[str, Any]) -> None:
    """runbook_url names a docs file and a heading anchor that exists in it."""
    path, _, anchor = rule["annotations"]["runbook_url"].partition("#")
    assert anchor == rule["alert"].lower()
    text = (ROOT / path).read_text(encoding="utf-8")
    assert anchor in _anchors(text), f"{path} has no section #{anchor}"


def test_every_runbook_is_in_the_operations_guide() -> None:
    """One runbook, docs/operations.md's "Runbook" section, as the issue asks for."""
    pages = {rule["annotations"]["runbook_url"].partition("#")[0] for rule in RULES}
    assert pages == {"docs/operations.md"}


@pytest.mark.parametrize("rule", RULES, ids=ALERTS)
def test_alert_has_severity_and_summary(rule: dict[str, Any]) -> None:
    """Each alert routes by severity and says what is wrong in one line."""
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"]


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, flags=re.MULTILINE)
    slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
    return slugs | set(re.findall(r'<a id="([^"]+)"', markdown))
