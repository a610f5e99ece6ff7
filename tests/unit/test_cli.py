"""The `relay` and consumers command lines: version, help, lazy settings, unknown variables."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import orjson
import pytest
from structlog.testing import capture_logs

from consumers.cli import main as consumers_main
from relay.__main__ import main
from relay.cli.commands import sections
from relay.config import ConfigError, load_settings
from relay.config.variables import unknown_variables, warn_unknown_variables
from relay.telemetry.logs import reset

VERSION = metadata.version("sinch-sms-relay")


@pytest.fixture(autouse=True)
def _logging_reset() -> Iterator[None]:
    yield
    reset()


def _json_lines(text: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_relay_version_comes_from_the_package_metadata(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`relay --version` prints the installed distribution's version and exits 0."""
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"relay {VERSION}\n"


def test_consumers_version_comes_from_the_package_metadata(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`python -m consumers --version`, from the same distribution."""
    with pytest.raises(SystemExit) as exit_:
        consumers_main(["--version"], {})
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"consumers {VERSION}\n"


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["serve", "--help"], "(default: http.port, 8080)"),
        (["serve", "--help"], "(default: 1)"),
        (["simulate", "--help"], "(default: 70)"),
    ],
)
def test_help_shows_the_defaults(
    argv: list[str], shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Help texts say what an option is when it is not given."""
    with pytest.raises(SystemExit):
        main(argv)
    assert shown in " ".join(capsys.readouterr().out.split())


def test_a_command_that_needs_no_settings_ignores_a_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`relay config --reference` reads no settings, so RELAY_HTTP_PORT=x cannot stop it."""
    monkeypatch.setenv("RELAY_HTTP_PORT", "x")
    assert main(["config", "--reference"]) == 0
    assert "| `http.port` |" in capsys.readouterr().out


def test_a_command_that_needs_settings_still_refuses_a_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`relay asyncapi` reads them: one line naming the variable, exit 2."""
    monkeypatch.setenv("RELAY_HTTP_PORT", "x")
    assert main(["asyncapi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relay: configuration error: invalid setting http.port (RELAY_HTTP_PORT)")


@pytest.mark.parametrize("port", ["0", "70000"])
def test_a_port_outside_1_to_65535_is_a_configuration_error(port: str) -> None:
    """70000 used to bind 4464 (70000 mod 65536) in silence."""
    with pytest.raises(ConfigError, match=r"http\.port \(RELAY_HTTP_PORT\)"):
        load_settings(None, {"RELAY_HTTP_PORT": port})


def test_a_cli_port_outside_1_to_65535_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`relay serve --port 70000`: one line, exit 2, nothing started."""
    assert main(["serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert err == "relay: configuration error: invalid --port 70000: expected 1-65535\n"


def test_an_unknown_variable_names_the_closest_known_one() -> None:
    """A typo of a relay or a consumer variable, each with its likely intended name."""
    env = {"RELAY_HTTP_PROT": "9000", "CONSUMER_PREFTCH": "8", "RELAY_ZZZZZZ": "1"}
    found = {u.variable: u.closest for u in unknown_variables(env, sections())}
    assert found == {
        "RELAY_HTTP_PROT": "RELAY_HTTP_PORT",
        "CONSUMER_PREFTCH": "CONSUMER_PREFETCH",
        "RELAY_ZZZZZZ": None,
    }


def test_the_projects_own_variables_are_not_unknown() -> None:
    """Settings, `_FILE` twins, the config path and the project's non-setting variables."""
    env = dict.fromkeys(
        [
            "RELAY_AMQP_URLS_FILE",
            "RELAY_SECURITY_HMAC_SECRETS",
            "CONSUMER_STORE_URL_FILE",
            "RELAY_CONFIG",
            "CONSUMER_CONFIG",
            "RELAY_TEST_AMQP_URL",
            "RELAY_RUN_STOP_SECONDS",
            "RELAY_SIMULATE_SECRET",
            "RELAY_ACCOUNT_EU_HMAC_SECRETS",
            "PATH",
        ],
        "x",
    )
    assert list(unknown_variables(env, sections())) == []
    extra = {"RELAY_LATER_SETTING": "x", "RELAY_PLUGIN_A": "x"}
    found = unknown_variables(extra, sections(), ["RELAY_LATER_SETTING"], ["RELAY_PLUGIN_"])
    assert list(found) == []


def test_each_unknown_variable_is_one_warning() -> None:
    """One `config.unknown_variable` line per name, never its value."""
    with capture_logs() as logs:
        warn_unknown_variables({"RELAY_HTTP_PROT": "s3cret"}, sections())
    assert logs == [
        {
            "event": "config.unknown_variable",
            "variable": "RELAY_HTTP_PROT",
            "closest": "RELAY_HTTP_PORT",
            "log_level": "warning",
        }
    ]


def test_the_relay_warns_of_a_typo_in_its_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The warning is a log line (JSON off a TTY), on stderr beside a printed document."""
    monkeypatch.setenv("RELAY_HTTP_PROT", "9000")
    assert main(["asyncapi"]) == 0
    captured = capsys.readouterr()
    assert orjson.loads(captured.out)["asyncapi"]
    [line] = _json_lines(captured.err)
    assert (line["event"], line["closest"], line["level"]) == (
        "config.unknown_variable",
        "RELAY_HTTP_PORT",
        "warning",
    )


def test_the_consumers_warn_of_a_typo_in_their_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same warning from the consumers, which read both prefixes."""
    env = {"CONSUMER_PREFTCH": "8", "CONSUMER_STORE_URL": f"sqlite:///{tmp_path}/s.db"}
    consumers_main(["status", "b1"], env)
    lines = _json_lines(capsys.readouterr().out)
    [line] = [e for e in lines if e["event"] == "config.unknown_variable"]
    assert (line["event"], line["variable"], line["closest"]) == (
        "config.unknown_variable",
        "CONSUMER_PREFTCH",
        "CONSUMER_PREFETCH",
    )
