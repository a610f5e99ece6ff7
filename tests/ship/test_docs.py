"""The docs cannot drift: generated tables are compared with the code, links must resolve."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from prometheus_client.metrics_core import Metric

from relay.cli import reference as config_reference
from relay.telemetry.metrics import create_metrics
from tests.ship.dockerfile import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
OPERATIONS = (DOCS / "operations.md").read_text(encoding="utf-8")
MARKDOWN = (README, *sorted(DOCS.glob("*.md")))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_configuration_table_is_the_generated_one() -> None:
    """docs/configuration.md holds `relay config --reference` (regenerate it if this fails)."""
    assert config_reference.extract(CONFIGURATION.read_text(encoding="utf-8")) == (
        config_reference.block()
    )
    assert config_reference.START not in README.read_text(encoding="utf-8")


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


def _local_targets(page: Path) -> list[str]:
    links = LINK.findall(page.read_text(encoding="utf-8"))
    return [link.split("#", 1)[0] for link in links if "://" not in link]


def _unresolved(page: Path) -> list[str]:
    targets = [(t, (page.parent / t).resolve()) for t in _local_targets(page) if t]
    return [t for t, path in targets if not path.exists()]


def test_relative_links_in_the_docs_point_at_files() -> None:
    """Every `](path)` link in README.md and docs/*.md names an existing file (anchors aside)."""
    missing = {f"{page.relative_to(ROOT)}: {t}" for page in MARKDOWN for t in _unresolved(page)}
    assert missing == set()


def test_the_link_check_reports_a_missing_file(tmp_path: Path) -> None:
    """A link to a file that is not there is reported; a web address or an anchor is not."""
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# There\n", encoding="utf-8")
    page.write_text(
        "[a](there.md#there) [b](gone.md) [c](https://example.com/x.md) [d](#top)",
        encoding="utf-8",
    )
    assert _unresolved(page) == ["gone.md"]


SETTING_LIKE = re.compile(r"`((?:http|amqp|topology|logging|shutdown|security|consumers)\.[a-z_]+)")
VARIABLE = re.compile(r"\b(?:RELAY|CONSUMER)_[A-Z0-9_]*[A-Z0-9]\b")


def _log_events_and_modules() -> set[str]:
    """Dotted names that are not settings: log events in the code, and module paths."""
    sources = [*ROOT.glob("relay/**/*.py"), *ROOT.glob("consumers/**/*.py")]
    events = {e for p in sources for e in re.findall(r'"([a-z_]+\.[a-z_]+)"', p.read_text())}
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in sources}
    return events | modules


def test_every_setting_the_docs_mention_exists() -> None:
    """A `section.key` in README.md or docs/ is a setting (or a log event, or a module)."""
    known = {row.key for row in config_reference.rows()} | _log_events_and_modules()
    mentioned = {
        (path.name, name)
        for path in MARKDOWN
        for name in SETTING_LIKE.findall(path.read_text(encoding="utf-8"))
    }
    assert sorted(m for m in mentioned if m[1] not in known) == []


def test_every_variable_the_docs_mention_is_read() -> None:
    """A RELAY_*/CONSUMER_* name in README.md or docs/ is one the loader or the project reads."""
    from relay.cli.commands import sections
    from relay.config.variables import unknown_variables

    unknown = {
        (path.name, u.variable)
        for path in MARKDOWN
        for u in unknown_variables(
            dict.fromkeys(VARIABLE.findall(path.read_text(encoding="utf-8")), ""), sections()
        )
    }
    assert sorted(u for u in unknown if u[1] not in TYPO_EXAMPLES) == []


TYPO_EXAMPLES = {"RELAY_HTTP_PROT"}  # the docs' example of the unknown-variable warning

HORIZON = re.compile(r"22 h 45|\b46 ?h|\b23 ?h(ours)?\b|\b\d+ hours? of retries")


def test_sinchs_retry_horizon_is_stated_once_in_docs_sinch_md() -> None:
    """Everything else points at docs/sinch.md, section 2, so the figures cannot disagree."""
    texts = {path: path.read_text(encoding="utf-8") for path in MARKDOWN}
    texts |= {p: p.read_text(encoding="utf-8") for p in ROOT.glob("relay/**/*.py")}
    stating = sorted(
        str(path.relative_to(ROOT))
        for path, text in texts.items()
        if HORIZON.search(text) and path != DOCS / "sinch.md"
    )
    assert stating == []
    assert HORIZON.search((DOCS / "sinch.md").read_text(encoding="utf-8"))
