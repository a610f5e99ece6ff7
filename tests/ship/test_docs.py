"""The docs cannot drift: their generated tables are compared with the code."""

from __future__ import annotations

import re
import subprocess
import sys

from prometheus_client.metrics_core import Metric

from relay.config import reference as config_reference
from relay.telemetry.metrics import create_metrics
from tests.ship.dockerfile import ROOT

OPERATIONS = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def test_configuration_table_is_the_generated_one() -> None:
    """docs/configuration.md holds `relay config --reference` (regenerate it if this fails)."""
    assert config_reference.extract(CONFIGURATION) == config_reference.block()


def test_every_setting_is_described() -> None:
    """Each field of the settings dataclasses has a description, and none is stale."""
    assert config_reference.undescribed() == []
    keys = {row.key for row in config_reference.rows()}
    assert set(config_reference.DESCRIPTIONS) - keys == set()


def test_every_setting_has_a_row_with_its_variable() -> None:
    """RELAY_<SECTION>_<KEY> for the relay, CONSUMER_<KEY> for the workers, secrets' twins."""
    table = config_reference.table()
    assert "| `amqp.url` | `RELAY_AMQP_URL` |" in table
    assert "| `consumers.amqp_urls` | `CONSUMER_AMQP_URLS` |" in table
    assert "| `consumers.store_url_file` | `CONSUMER_STORE_URL_FILE` |" in table
    assert len(table.splitlines()) == 2 + len(list(config_reference.rows()))


def test_cli_prints_the_reference() -> None:
    """`relay config --reference` prints the same block."""
    result = subprocess.run(
        [sys.executable, "-m", "relay", "config", "--reference"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout.strip() == config_reference.block()


def _exposed(metric: Metric) -> str:
    return metric.name + "_total" if metric.type == "counter" else metric.name


def test_metrics_table_lists_exactly_the_relay_metrics() -> None:
    """Every metric in the docs' table exists on /metrics, and every relay metric is listed."""
    section = OPERATIONS.split("<!-- metrics:start -->")[1].split("<!-- metrics:end -->")[0]
    documented = set(re.findall(r"`(relay_[a-z_]+)`", section))
    exposed = {_exposed(m) for m in create_metrics().registry.collect()}
    assert documented == exposed
