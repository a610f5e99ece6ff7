"""Security settings: environment and files for secrets, no secret in any repr or log."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter
from structlog.testing import capture_logs

from relay.config import ConfigError, SecuritySettings, load_settings
from relay.edge.auth import Authenticator
from tests.security.conftest import secrets


def _counter() -> Counter:
    return Counter("f", "f", ["route", "reason", "account"], registry=CollectorRegistry())


def test_secrets_come_from_env_and_files_and_never_show(tmp_path: Path) -> None:
    """`*_file` lines are merged with env values; repr shows neither."""
    secret_file = tmp_path / "hmac"
    secret_file.write_text("from-file-secret\n\n", encoding="utf-8")
    env = {
        "RELAY_SECURITY_HMAC_ROUTES": "/sms",
        "RELAY_SECURITY_HMAC_SECRETS": "from-env-secret",
        "RELAY_SECURITY_HMAC_SECRETS_FILE": str(secret_file),
    }
    settings = load_settings(None, env).security
    assert [s.reveal() for s in settings.hmac_secrets] == ["from-env-secret", "from-file-secret"]
    assert "from-env-secret" not in repr(settings)
    assert "from-file-secret" not in repr(settings)


def test_unreadable_secret_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing secrets file stops start-up, naming the key."""
    env = {"RELAY_SECURITY_BASIC_CREDENTIALS_FILE": str(tmp_path / "absent")}
    with pytest.raises(ConfigError, match="basic_credentials_file"):
        load_settings(None, env)


def test_token_lifetime_is_bounded_as_sinch_requires() -> None:
    """Sinch caches a token for expires_in, which must lie in 30..3600 s."""
    with pytest.raises(ConfigError, match="<= 3600"):
        load_settings(None, {"RELAY_SECURITY_OAUTH_TOKEN_TTL_SECONDS": "7200"})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (SecuritySettings(hmac_routes=("/smss",), hmac_secrets=secrets("s")), "unknown path"),
        (SecuritySettings(hmac_routes=("/sms",)), "hmac_secrets"),
        (SecuritySettings(basic_routes=("/sms",), basic_credentials=secrets("nocolon")), "name:"),
        (
            SecuritySettings(oauth_routes=("/sms",), oauth_clients=secrets("a:b")),
            "oauth_token_keys",
        ),
        (SecuritySettings(allow_cidrs=("10.0.0.300/8",)), "allow_cidrs"),
    ],
)
def test_configurations_that_would_leave_a_route_open_are_refused(
    settings: SecuritySettings, message: str
) -> None:
    """A typo in a route, a missing secret or a bad CIDR is an error, not an open door."""
    with pytest.raises(ConfigError, match=message):
        Authenticator(settings, _counter(), 1024)


def test_start_up_logs_how_many_secrets_each_mechanism_loaded() -> None:
    """Counts only, never values: a secret split in two shows as one secret too many."""
    settings = SecuritySettings(
        hmac_routes=("/sms", "/sms/incoming", "/sms/delivery-report"),
        hmac_secrets=secrets("ab", "cd"),  # "ab,cd" split by a comma
    )
    with capture_logs() as logs:
        Authenticator(settings, _counter(), 1024)
    [line] = [e for e in logs if e["event"] == "security.secrets_loaded"]
    assert (line["hmac_secrets"], line["basic_credentials"], line["oauth_clients"]) == (2, 0, 0)
    assert "ab" not in repr(logs)


def test_a_credential_split_by_a_comma_stops_start_up() -> None:
    """`sinch:pa,ss` split into `sinch:pa` and `ss`: the half without a name is refused."""
    settings = SecuritySettings(
        basic_routes=("/sms", "/sms/incoming", "/sms/delivery-report"),
        basic_credentials=secrets("sinch:pa", "ss"),
    )
    with pytest.raises(ConfigError, match="name:secret"):
        Authenticator(settings, _counter(), 1024)
