"""`[accounts.<name>]` settings: TOML tables, RELAY_ACCOUNT_<NAME>_* variables, name rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.config import (
    AccountSettings,
    ConfigError,
    HttpSettings,
    Secret,
    SecuritySettings,
    Settings,
    load_settings,
)
from relay.config.accounts import RESERVED_ACCOUNT_NAMES
from relay.contract.routing import CATCH_ALL_PATH, FLOW_PATHS
from relay.edge.app import create_app
from tests.support.fakes import FakePublisher

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "examples" / "two-accounts.toml"
SECRETS = {
    "RELAY_ACCOUNT_EU_HMAC_SECRETS": '["eu-1","eu-2"]',
    "RELAY_ACCOUNT_US_HMAC_SECRETS": "us-1",
}


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relay.toml"
    path.write_text(text)
    return path


def test_the_two_accounts_example_loads_with_its_two_variables() -> None:
    """eu and us, HMAC on all three paths of each, secrets from their RELAY_ACCOUNT_* variables."""
    s = load_settings(EXAMPLE, SECRETS)
    assert [a.name for a in s.accounts] == ["eu", "us"]
    eu, us = s.accounts
    assert [x.reveal() for x in eu.hmac_secrets] == ["eu-1", "eu-2"]
    assert [x.reveal() for x in us.hmac_secrets] == ["us-1"]
    assert eu.hmac_routes == ("/sms/eu", "/sms/eu/delivery-report", "/sms/eu/incoming")
    assert s.http.default_paths is False
    create_app(s, FakePublisher())  # every served route guarded: starts


def test_the_example_without_its_secrets_stops_start_up() -> None:
    """No RELAY_ACCOUNT_EU_HMAC_SECRETS: the error names the account's key."""
    s = load_settings(EXAMPLE, {"RELAY_ACCOUNT_US_HMAC_SECRETS": "us-1"})
    with pytest.raises(ConfigError, match=r"accounts\.eu\.hmac_secrets \(or hmac_secrets_file\)"):
        create_app(s, FakePublisher())


def test_an_account_secret_file_twin_is_read(tmp_path: Path) -> None:
    """RELAY_ACCOUNT_EU_HMAC_SECRETS_FILE: one secret per line, verbatim (`#` too), merged
    with the variable."""
    secret_file = tmp_path / "eu"
    secret_file.write_text("#rotated-2026-12\nfrom-file\n")
    env = {**SECRETS, "RELAY_ACCOUNT_EU_HMAC_SECRETS_FILE": str(secret_file)}
    eu = load_settings(EXAMPLE, env).accounts[0]
    secrets = [x.reveal() for x in eu.hmac_secrets]
    assert secrets == ["eu-1", "eu-2", "#rotated-2026-12", "from-file"]


def test_a_hyphenated_name_takes_underscores_in_its_variables(tmp_path: Path) -> None:
    """Account us-east reads RELAY_ACCOUNT_US_EAST_*."""
    path = _toml(tmp_path, "[accounts.us-east]\n")
    (account,) = load_settings(path, {"RELAY_ACCOUNT_US_EAST_ALLOW_CIDRS": "10.0.0.0/8"}).accounts
    assert (account.name, account.allow_cidrs) == ("us-east", ("10.0.0.0/8",))


def test_a_variable_for_an_unconfigured_account_is_refused(tmp_path: Path) -> None:
    """A secret for an account with no table (or a misspelt key) must not go unused."""
    path = _toml(tmp_path, "[accounts.eu]\n")
    for var in ("RELAY_ACCOUNT_US_HMAC_SECRETS", "RELAY_ACCOUNT_EU_HMAC_SECRET"):
        with pytest.raises(ConfigError, match=var):
            load_settings(path, {var: "s"})


@pytest.mark.parametrize("name", ["EU", "eu_west", "-eu", "eu-", "e.u", "", "delivery-report"])
def test_a_bad_account_name_is_refused(tmp_path: Path, name: str) -> None:
    """Lower-case letters, digits and inner hyphens only, and not a flow path's segment."""
    path = _toml(tmp_path, f'[accounts."{name}"]\n')
    with pytest.raises(ConfigError, match="invalid account name"):
        load_settings(path, {})


def test_reserved_names_are_the_flow_paths_segments() -> None:
    """An account named like /sms/<segment> of a flow would shadow that flow's path."""
    segments = {path.removeprefix(CATCH_ALL_PATH + "/") for path in FLOW_PATHS.values()}
    assert segments == RESERVED_ACCOUNT_NAMES


def test_oauth_is_not_an_account_key(tmp_path: Path) -> None:
    """The one token endpoint cannot tell accounts apart: oauth keys in an account are refused."""
    path = _toml(tmp_path, '[accounts.eu]\noauth_routes = ["/sms/eu"]\n')
    with pytest.raises(ConfigError, match=r"unknown setting accounts\.eu\.oauth_routes"):
        load_settings(path, {})


def test_no_paths_at_all_is_refused() -> None:
    """Default paths off and no account: nothing would be served."""
    with pytest.raises(ConfigError, match="no callback path would be served"):
        Settings(http=HttpSettings(default_paths=False))


def test_an_account_name_appears_once() -> None:
    """Two accounts of one name would register the same paths twice."""
    with pytest.raises(ConfigError, match="appears twice"):
        Settings(accounts=(AccountSettings("eu"), AccountSettings("eu")))


def test_an_accounts_settings_inherit_no_secret() -> None:
    """AccountSettings.security keeps [security]'s limits and drops its credentials."""
    shared = SecuritySettings(
        hmac_routes=("/sms",),
        hmac_secrets=(Secret("default"),),
        basic_credentials=(Secret("a:b"),),
        oauth_routes=("/sms",),
        oauth_clients=(Secret("c:d"),),
        allow_cidrs=("10.0.0.0/8",),
        hmac_tolerance_seconds=60,
    )
    own = AccountSettings("eu").security(shared)
    assert (own.hmac_secrets, own.basic_credentials, own.oauth_clients) == ((), (), ())
    assert (own.hmac_routes, own.oauth_routes, own.allow_cidrs) == ((), (), ())
    assert own.hmac_tolerance_seconds == 60
