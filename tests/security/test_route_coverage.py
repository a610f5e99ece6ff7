"""Credentials on some callback paths and none on another are refused at start-up.

Routing follows the body's `type`, not the URL, so every callback path can carry every
type: one open path lets a forged callback (a forged STOP is an opt-out) in.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter

from relay.config import ConfigError, SecuritySettings
from relay.edge.auth import CALLBACK_PATHS, Authenticator
from tests.security.conftest import secrets

FLOW_ONLY = ("/sms/delivery-report", "/sms/incoming")  # the README's old examples
PAIRS = secrets("sinch:pw")


def _counter() -> Counter:
    return Counter("f", "f", ["route", "reason", "account"], registry=CollectorRegistry())


@pytest.mark.parametrize(
    "settings",
    [
        SecuritySettings(basic_routes=FLOW_ONLY, basic_credentials=PAIRS),
        SecuritySettings(
            oauth_routes=FLOW_ONLY, oauth_clients=PAIRS, oauth_token_keys=secrets("k")
        ),
        SecuritySettings(hmac_routes=("/sms/incoming",), hmac_secrets=secrets("s")),
    ],
)
def test_open_catch_all_next_to_guarded_routes_stops_start_up(settings: SecuritySettings) -> None:
    """The error names the path left open."""
    with pytest.raises(ConfigError, match="'/sms'"):
        Authenticator(settings, _counter(), 1024)


def test_every_path_guarded_by_some_mechanism_starts() -> None:
    """HMAC on all paths plus Basic on one: nothing is open, so it starts."""
    settings = SecuritySettings(
        hmac_routes=CALLBACK_PATHS,
        hmac_secrets=secrets("s"),
        basic_routes=("/sms",),
        basic_credentials=PAIRS,
    )
    Authenticator(settings, _counter(), 1024)
