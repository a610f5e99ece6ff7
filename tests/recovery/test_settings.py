"""The archive and Sinch API settings, by the names the issue gives them."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.config import ConfigError, Secret, load_settings


def test_the_archive_is_off_by_default_and_keeps_seven_days() -> None:
    """archive.enabled false, archive.max_age 7D, Sinch's US endpoint by default."""
    settings = load_settings(None, {})
    assert (settings.archive.enabled, settings.archive.max_age) == (False, "7D")
    assert settings.topology.archive == "sinch.sms.archive"
    assert settings.sinch.api_url == "https://us.sms.api.sinch.com"


def test_archive_and_sinch_settings_come_from_their_variables(tmp_path: Path) -> None:
    """RELAY_ARCHIVE_*, RELAY_SINCH_*, and the token from its _FILE twin."""
    token = tmp_path / "token"
    token.write_text("s3cret\n", encoding="utf-8")
    env = {
        "RELAY_ARCHIVE_ENABLED": "true",
        "RELAY_ARCHIVE_MAX_AGE": "36h",
        "RELAY_ARCHIVE_MAX_BYTES": "1000000",
        "RELAY_SINCH_API_URL": "https://eu.sms.api.sinch.com",
        "RELAY_SINCH_SERVICE_PLAN_ID": "plan",
        "RELAY_SINCH_API_TOKEN_FILE": str(token),
    }
    settings = load_settings(None, env)
    assert settings.archive.enabled
    assert (settings.archive.max_age, settings.archive.max_bytes) == ("36h", 1_000_000)
    assert settings.sinch.api_token == Secret("s3cret")
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("age", ["7", "7d", "0D", "1 D"])
def test_a_max_age_rabbitmq_would_refuse_stops_start_up(age: str) -> None:
    """RabbitMQ's x-max-age syntax only, named with its variable."""
    with pytest.raises(ConfigError, match="RELAY_ARCHIVE_MAX_AGE"):
        load_settings(None, {"RELAY_ARCHIVE_MAX_AGE": age})
