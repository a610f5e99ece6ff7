"""Basic auth and OAuth 2.0 (token endpoint + bearer) on the running app."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter

from relay.config import ConfigError, SecuritySettings
from relay.edge.auth import CALLBACK_PATHS, Authenticator
from relay.edge.auth.basic import basic_header
from relay.edge.auth.oauth import TokenIssuer
from tests.security.conftest import MO_TEXT, FixedClock, RelayFactory, secrets

ROUTE = "/sms/incoming"
BASIC = {
    "basic_routes": CALLBACK_PATHS,
    "basic_credentials": secrets("sinch:new-pw", "sinch:old-pw"),
}
OAUTH = {
    "oauth_routes": CALLBACK_PATHS,
    "oauth_clients": secrets("sinch-client:s3cret"),
    "oauth_token_keys": secrets("signing-key-2", "signing-key-1"),
}


async def test_basic_accepts_every_configured_pair(relay: RelayFactory) -> None:
    """Both the new and the old password work during a rotation."""
    client, publisher = await relay(**BASIC)
    for pw in ("new-pw", "old-pw"):
        headers = {"Authorization": basic_header("sinch", pw)}
        assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    assert len(publisher.published) == 2


async def test_basic_refuses_wrong_or_missing_credentials(relay: RelayFactory) -> None:
    """Wrong password, wrong user, garbage or none: 401 with a Basic challenge."""
    client, publisher = await relay(**BASIC)
    attempts = [
        {"Authorization": basic_header("sinch", "nope")},
        {"Authorization": basic_header("other", "new-pw")},
        {"Authorization": "Basic !!!"},
        {},
    ]
    for headers in attempts:
        response = await client.post(ROUTE, data=MO_TEXT, headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert "pw" not in await response.text()
    assert publisher.published == []


async def _token(client: object, **kwargs: object) -> object:
    return await client.post("/oauth/token", **kwargs)  # type: ignore[attr-defined]


async def test_oauth_token_with_basic_client_auth_then_bearer_callback(
    relay: RelayFactory,
) -> None:
    """Sinch's flow: client credentials by Basic, then the bearer token on the callback."""
    client, publisher = await relay(**OAUTH)
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic_header("sinch-client", "s3cret")},
    )
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    grant = await response.json()
    assert grant["token_type"] == "Bearer"
    assert grant["expires_in"] == 900
    bearer = {"Authorization": f"Bearer {grant['access_token']}"}
    assert (await client.post(ROUTE, data=MO_TEXT, headers=bearer)).status == 200
    assert len(publisher.published) == 1


async def test_oauth_token_with_form_client_credentials(relay: RelayFactory) -> None:
    """client_id/client_secret in the form body are accepted too."""
    client, _ = await relay(**OAUTH)
    form = {"grant_type": "client_credentials", "client_id": "sinch-client"}
    response = await client.post("/oauth/token", data={**form, "client_secret": "s3cret"})
    assert response.status == 200
    wrong = await client.post("/oauth/token", data={**form, "client_secret": "x"})
    assert wrong.status == 401
    assert await wrong.json() == {"error": "invalid_client"}
    odd = await client.post("/oauth/token", data={"grant_type": "implicit"})
    assert odd.status == 400


async def test_bearer_refuses_forged_expired_or_missing_tokens(relay: RelayFactory) -> None:
    """Tokens MAC'd with an unknown key, or past expiry plus grace, are 401."""
    client, publisher = await relay(**OAUTH)
    long_ago = FixedClock(1_000_000.0)
    expired = TokenIssuer(secrets("signing-key-2"), 900, 0, long_ago).issue()
    forged = TokenIssuer(secrets("not-our-key"), 900, 0, FixedClock(4e9)).issue()
    for token in (expired, forged, "a.b.c", ""):
        headers = {"Authorization": f"Bearer {token}"}
        response = await client.post(ROUTE, data=MO_TEXT, headers=headers)
        assert response.status == 401
    assert (await client.post(ROUTE, data=MO_TEXT)).status == 401
    assert publisher.published == []


async def test_token_from_old_signing_key_still_accepted(relay: RelayFactory) -> None:
    """Rotating the token key keeps tokens issued under the previous key valid."""
    client, _ = await relay(**OAUTH)
    token = TokenIssuer(secrets("signing-key-1"), 900, 0, FixedClock(4e9)).issue()
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200


def test_token_accepted_within_grace_after_expiry() -> None:
    """A token Sinch cached to the last second is not refused at the boundary."""
    clock = FixedClock(1000.0)
    issuer = TokenIssuer(secrets("k"), 60, 30, clock)
    token = issuer.issue()
    clock.value = 1000 + 60 + 30
    assert issuer.accepts(token)
    clock.value += 1
    assert not issuer.accepts(token)


async def test_basic_or_bearer_on_one_route(relay: RelayFactory) -> None:
    """A route with both Basic and OAuth configured accepts either scheme."""
    client, publisher = await relay(**BASIC, **{**OAUTH, "oauth_routes": CALLBACK_PATHS})
    token = TokenIssuer(secrets("signing-key-2"), 900, 0, FixedClock(4e9)).issue()
    for value in (basic_header("sinch", "new-pw"), f"Bearer {token}"):
        headers = {"Authorization": value}
        assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    assert len(publisher.published) == 2


async def test_a_long_configured_basic_password_is_accepted(relay: RelayFactory) -> None:
    """A 2,000-character password (a generated secret) works on every request."""
    password = "p" * 2000
    client, publisher = await relay(
        basic_routes=CALLBACK_PATHS, basic_credentials=secrets(f"sinch:{password}")
    )
    headers = {"Authorization": basic_header("sinch", password)}
    assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    assert len(publisher.published) == 1


def test_a_basic_password_too_long_for_any_request_stops_start_up() -> None:
    """One that could never arrive within max_header_bytes is refused when configured."""
    settings = SecuritySettings(
        basic_routes=CALLBACK_PATHS, basic_credentials=secrets("sinch:" + "p" * 9000)
    )
    counter = Counter("f", "f", ["route", "reason", "account"], registry=CollectorRegistry())
    with pytest.raises(ConfigError, match="max_header_bytes"):
        Authenticator(settings, counter, 1024)
