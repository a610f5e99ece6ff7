"""Several Sinch accounts on one relay: each path takes only its own account's secrets."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from relay.config import AccountSettings, ConfigError, HttpSettings, SecuritySettings, Settings
from relay.edge.accounts import account_routes
from relay.edge.app import create_app
from relay.edge.auth import CALLBACK_PATHS
from relay.edge.auth.basic import basic_header
from tests.security.conftest import MO_TEXT, secrets, signed
from tests.support.fakes import FakePublisher, headers_of

ClientFactory = Any
EU_PATHS = tuple(r.path for r in account_routes("eu"))
US_PATHS = tuple(r.path for r in account_routes("us"))


def _account(name: str, secret: str) -> AccountSettings:
    paths = tuple(r.path for r in account_routes(name))
    return AccountSettings(name=name, hmac_routes=paths, hmac_secrets=secrets(secret))


def _settings(default_paths: bool = True) -> Settings:
    security = SecuritySettings(hmac_routes=CALLBACK_PATHS, hmac_secrets=secrets("default-s"))
    return Settings(
        http=HttpSettings(default_paths=default_paths),
        security=security if default_paths else SecuritySettings(),
        accounts=(_account("eu", "eu-s"), _account("us", "us-s")),
    )


async def _start(
    aiohttp_client: ClientFactory, settings: Settings
) -> tuple[TestClient[Any, Any], FakePublisher]:
    publisher = FakePublisher()
    app: web.Application = create_app(settings, publisher)
    return await aiohttp_client(app), publisher


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        *((p, "us-s") for p in EU_PATHS),
        *((p, "eu-s") for p in US_PATHS),
        *((p, "default-s") for p in EU_PATHS),
        *((p, "eu-s") for p in CALLBACK_PATHS),
    ],
)
async def test_a_secret_never_opens_another_accounts_path(
    aiohttp_client: ClientFactory, path: str, secret: str
) -> None:
    """A genuine signature of another account (or of the default paths) is 401, unpublished."""
    client, publisher = await _start(aiohttp_client, _settings())
    response = await client.post(path, data=MO_TEXT, headers=signed(secret, MO_TEXT, "n1"))
    assert response.status == 401
    assert publisher.published == []


@pytest.mark.parametrize(
    ("path", "secret", "account"),
    [
        *((p, "eu-s", "eu") for p in EU_PATHS),
        *((p, "us-s", "us") for p in US_PATHS),
    ],
)
async def test_each_account_path_labels_its_messages(
    aiohttp_client: ClientFactory, path: str, secret: str, account: str
) -> None:
    """The account's own secret is accepted and the message carries x-sinch-account."""
    client, publisher = await _start(aiohttp_client, _settings())
    response = await client.post(path, data=MO_TEXT, headers=signed(secret, MO_TEXT, "n1"))
    assert response.status == 200
    (message,) = publisher.published
    assert headers_of(message)["x-sinch-account"] == account
    assert headers_of(message)["x-relay-path"] == path


async def test_the_default_paths_keep_their_secret_and_carry_no_account(
    aiohttp_client: ClientFactory,
) -> None:
    """Beside accounts, /sms/incoming still takes [security]'s secret, with no account header."""
    client, publisher = await _start(aiohttp_client, _settings())
    headers = signed("default-s", MO_TEXT, "n1")
    assert (await client.post("/sms/incoming", data=MO_TEXT, headers=headers)).status == 200
    (message,) = publisher.published
    assert "x-sinch-account" not in headers_of(message)


async def test_without_default_paths_only_account_paths_exist(
    aiohttp_client: ClientFactory,
) -> None:
    """http.default_paths = false: /sms is not a route (404), the account paths are."""
    client, _ = await _start(aiohttp_client, _settings(default_paths=False))
    assert (await client.post("/sms", data=MO_TEXT)).status == 404
    ok = await client.post("/sms/eu", data=MO_TEXT, headers=signed("eu-s", MO_TEXT, "n"))
    assert ok.status == 200


async def test_the_log_line_and_metrics_name_the_account(aiohttp_client: ClientFactory) -> None:
    """Accepted or refused, the canonical line and both counters carry the account."""
    client, _ = await _start(aiohttp_client, _settings())
    with capture_logs() as logs:
        good = signed("us-s", MO_TEXT, "n1")
        await client.post("/sms/us/incoming", data=MO_TEXT, headers=good)
        await client.post("/sms/us/incoming", data=MO_TEXT, headers=signed("eu-s", MO_TEXT, "n2"))
        await client.post("/sms/incoming", data=MO_TEXT, headers=signed("default-s", MO_TEXT, "n"))
    lines = [e for e in logs if e["event"] == "http.request"]
    assert [(e.get("account"), e["status"]) for e in lines] == [
        ("us", 200),
        ("us", 401),
        (None, 200),
    ]
    metrics = await (await client.get("/metrics")).text()
    assert (
        'relay_requests_total{account="us",route="/sms/us/incoming",status="401",type="other"} 1.0'
        in metrics
    )
    refused = (
        'relay_auth_failures_total{account="us",reason="bad_signature",route="/sms/us/incoming"}'
    )
    assert f"{refused} 1.0" in metrics


def test_an_open_account_next_to_guarded_paths_stops_start_up() -> None:
    """All accounts publish to the same exchanges: an unguarded account is a forged-STOP hole."""
    settings = dataclasses.replace(
        _settings(), accounts=(_account("eu", "s"), AccountSettings("us"))
    )
    with pytest.raises(ConfigError, match="'/sms/us'"):
        create_app(settings, FakePublisher())


def test_an_account_cannot_guard_another_accounts_path() -> None:
    """accounts.eu.hmac_routes may name only /sms/eu paths."""
    stray = AccountSettings("eu", hmac_routes=(*EU_PATHS, "/sms/us"), hmac_secrets=secrets("s"))
    settings = dataclasses.replace(_settings(), accounts=(stray, _account("us", "u")))
    with pytest.raises(ConfigError, match=r"accounts\.eu\.hmac_routes: unknown path"):
        create_app(settings, FakePublisher())


def test_an_account_with_routes_and_no_secret_stops_start_up() -> None:
    """The error names the account's own key."""
    bare = AccountSettings("eu", hmac_routes=EU_PATHS)
    settings = dataclasses.replace(_settings(), accounts=(bare, _account("us", "u")))
    with pytest.raises(ConfigError, match=r"accounts\.eu\.hmac_secrets"):
        create_app(settings, FakePublisher())


def test_default_routes_need_the_default_paths() -> None:
    """With the default paths off, [security] routes name paths nobody serves: refused."""
    settings = dataclasses.replace(
        _settings(default_paths=False),
        security=SecuritySettings(hmac_routes=("/sms",), hmac_secrets=secrets("s")),
    )
    with pytest.raises(ConfigError, match=r"security\.hmac_routes: unknown path"):
        create_app(settings, FakePublisher())


async def test_an_account_allowlist_is_its_own(aiohttp_client: ClientFactory) -> None:
    """accounts.eu.allow_cidrs refuses eu's callers; the default paths' list is not eu's."""
    eu = AccountSettings("eu", allow_cidrs=("192.0.2.0/24",))
    settings = Settings(accounts=(eu,), security=SecuritySettings(allow_cidrs=("127.0.0.0/8",)))
    client, publisher = await _start(aiohttp_client, settings)
    assert (await client.post("/sms/eu", data=MO_TEXT)).status == 403
    assert (await client.post("/sms", data=MO_TEXT)).status == 200
    assert len(publisher.published) == 1


async def test_basic_credentials_are_per_account(aiohttp_client: ClientFactory) -> None:
    """eu's `user:password` opens eu's paths and is refused on us's."""
    accounts = tuple(
        AccountSettings(
            name,
            basic_routes=tuple(r.path for r in account_routes(name)),
            basic_credentials=secrets(f"sinch:{name}-pw"),
        )
        for name in ("eu", "us")
    )
    settings = Settings(http=HttpSettings(default_paths=False), accounts=accounts)
    client, publisher = await _start(aiohttp_client, settings)
    auth = basic_header("sinch", "eu-pw")
    assert (
        await client.post("/sms/eu", data=MO_TEXT, headers={"Authorization": auth})
    ).status == 200
    assert (
        await client.post("/sms/us", data=MO_TEXT, headers={"Authorization": auth})
    ).status == 401
    assert [headers_of(m)["x-sinch-account"] for m in publisher.published] == ["eu"]
