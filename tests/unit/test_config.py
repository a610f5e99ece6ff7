"""Settings: TOML plus RELAY_* overrides, parsed once, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.config import DEFAULT_AMQP_URL, ConfigError, Secret, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_defaults_match_the_documented_topology() -> None:
    """With nothing configured, the relay uses the exchange names the README documents."""
    s = load_settings(None, {})
    assert (s.topology.delivery_reports, s.topology.inbound, s.topology.unrouted) == (
        "sinch.sms.delivery_reports",
        "sinch.sms.inbound",
        "sinch.sms.unrouted",
    )
    assert s.amqp.url.reveal() == DEFAULT_AMQP_URL
    assert (s.amqp.confirm_timeout, s.http.max_body_bytes) == (3.0, 1024 * 1024)


def test_the_shipped_example_config_loads_and_equals_the_defaults() -> None:
    """config/relay.toml documents the defaults: loading it changes nothing."""
    assert load_settings(REPO / "config" / "relay.toml", {}) == Settings()


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    """RELAY_<SECTION>_<KEY> wins over the TOML value."""
    path = tmp_path / "r.toml"
    path.write_text("[amqp]\nconfirm_timeout = 1.5\n[http]\nport = 9000\n")
    s = load_settings(path, {"RELAY_AMQP_CONFIRM_TIMEOUT": "2.5"})
    assert (s.amqp.confirm_timeout, s.http.port) == (2.5, 9000)


def test_amqp_url_comes_from_relay_amqp_url() -> None:
    """The broker URL's short variable name is the documented one."""
    s = load_settings(None, {"RELAY_AMQP_URL": "amqp://u:p@broker:5672/vh"})
    assert s.amqp.addresses() == (Secret("amqp://u:p@broker:5672/vh"),)


def test_several_broker_urls_are_tried_in_order() -> None:
    """RELAY_AMQP_URLS lists cluster nodes, comma-separated."""
    s = load_settings(None, {"RELAY_AMQP_URLS": "amqp://a/, amqp://b/"})
    assert [u.reveal() for u in s.amqp.addresses()] == ["amqp://a/", "amqp://b/"]


@pytest.mark.parametrize(
    ("env", "names"),
    [
        (
            {"RELAY_AMQP_CONFIRM_TIMEOUT": "soon"},
            "amqp.confirm_timeout (RELAY_AMQP_CONFIRM_TIMEOUT)",
        ),
        ({"RELAY_AMQP_CONFIRM_TIMEOUT": "0"}, "amqp.confirm_timeout"),
        ({"RELAY_HTTP_MAX_BODY_BYTES": "1.5"}, "http.max_body_bytes"),
        ({"RELAY_TOPOLOGY_DECLARE": "maybe"}, "topology.declare"),
        ({"RELAY_LOGGING_FORMAT": "xml"}, "logging.format"),
    ],
)
def test_an_invalid_value_names_its_key(env: dict[str, str], names: str) -> None:
    """Start-up stops with a message a human can act on."""
    with pytest.raises(ConfigError, match=names.replace("(", r"\(").replace(")", r"\)")):
        load_settings(None, env)


def test_an_unknown_key_in_the_file_is_an_error(tmp_path: Path) -> None:
    """A typo must not silently fall back to a default."""
    path = tmp_path / "r.toml"
    path.write_text("[amqp]\nconfirm_timout = 1\n")
    with pytest.raises(ConfigError, match=r"amqp\.confirm_timout"):
        load_settings(path, {})


def test_a_malformed_file_is_an_error(tmp_path: Path) -> None:
    """Broken TOML names the file."""
    path = tmp_path / "r.toml"
    path.write_text("[amqp\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, {})


def test_booleans_parse_from_common_spellings() -> None:
    """Operators write false, 0 or no; all mean the same."""
    for text in ("false", "0", "no", "OFF"):
        assert load_settings(None, {"RELAY_TOPOLOGY_DECLARE": text}).topology.declare is False


def test_secrets_never_show_in_repr() -> None:
    """The password in the broker URL stays out of reprs and so out of logs."""
    s = load_settings(None, {"RELAY_AMQP_URL": "amqp://user:hunter2@h/"})
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s.amqp.url)


def test_settings_are_frozen() -> None:
    """Parsed once, never mutated afterwards."""
    s = load_settings(None, {})
    with pytest.raises(AttributeError):
        s.http.port = 1  # type: ignore[misc]
