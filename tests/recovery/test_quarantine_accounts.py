"""Quarantine then redrive with several accounts, against a real broker: a secret of one
account never authenticates another account's path, on redrive as at the edge."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from aiohttp.test_utils import TestClient
from pamqp.common import FieldTable

from relay.config import AccountSettings, HttpSettings, Secret, Settings
from relay.contract import message, samples
from relay.contract.routing import CATCH_ALL_PATH, FLOW_PATHS, ROUTES
from relay.edge.accounts import account_routes
from relay.edge.app import create_app
from relay.recovery import quarantine
from tests.recovery.conftest import EdgeFactory, Held, nonce
from tests.security.conftest import signed
from tests.support.fakes import FakePublisher, headers_of


def _account(name: str, secret: str) -> AccountSettings:
    paths = tuple(r.path for r in account_routes(name))
    return AccountSettings(name=name, hmac_routes=paths, hmac_secrets=(Secret(secret),))


def _accounts(held: Held, eu_secret: str) -> Settings:
    """Only the eu and us paths (no default paths), each account HMAC on its own three."""
    accounts = (_account("eu", eu_secret), _account("us", "us-s3cret"))
    http = HttpSettings(default_paths=False)
    return dataclasses.replace(held.settings, http=http, accounts=accounts)


def _eu_callbacks() -> list[tuple[str, bytes]]:
    """One genuine body of each type, with the eu path Sinch would post it to."""
    rng, eu = random.Random(), f"{CATCH_ALL_PATH}/eu"
    return [
        (FLOW_PATHS[flow].replace(CATCH_ALL_PATH, eu, 1), samples.sample(t, rng))
        for t, flow in ROUTES.items()
    ]


async def _direct(
    client: TestClient[Any, Any], publisher: FakePublisher, callbacks: list[tuple[str, bytes]]
) -> dict[bytes, FieldTable]:
    """The headers the edge publishes for each callback, posted with eu's right secret."""
    for path, body in callbacks:
        response = await client.post(path, data=body, headers=signed("eu-s3cret", body, nonce()))
        assert response.status == 200
    return {m.body: headers_of(m) for m in publisher.published}


async def test_redrive_publishes_each_eu_genuine_callback_as_eu_and_never_another_accounts(
    held: Held, edge: EdgeFactory, aiohttp_client: Any
) -> None:
    """eu's secret typo'd: eu-genuine callbacks on eu paths are 401 and held, and so is a
    us-signed one on an eu path. Once eu's secret is fixed, redrive publishes exactly the
    eu-genuine ones, as `x-sinch-account: eu` with a direct publish's dedup key; the
    us-signed one stays, a second run publishes nothing."""
    client = await edge(_accounts(held, "eu-typo"))
    genuine = _eu_callbacks()
    assert "/sms/eu/incoming" in {path for path, _ in genuine}
    for path, body in genuine:
        response = await client.post(path, data=body, headers=signed("eu-s3cret", body, nonce()))
        assert response.status == 401
    path, body = _eu_callbacks()[0]
    foreign = body.replace(b'"type"', b'"from_us":1,"type"', 1)
    response = await client.post(path, data=foreign, headers=signed("us-s3cret", foreign, nonce()))
    assert response.status == 401
    await held.held_until(len(genuine) + 1)

    fixed = _accounts(held, "eu-s3cret")
    first = await held.redrive(fixed)
    delivered = await held.delivered()
    second = await held.redrive(fixed)
    publisher = FakePublisher()
    direct = await _direct(await aiohttp_client(create_app(fixed, publisher)), publisher, genuine)

    assert first.counts == {quarantine.PUBLISHED: len(genuine), "still refused (bad_signature)": 1}
    assert sorted(m.body for m in delivered) == sorted(b for _, b in genuine)
    for got in delivered:
        assert got.headers[message.SINCH_ACCOUNT] == "eu"
        assert got.headers[message.DEDUP_KEY] == direct[got.body][message.DEDUP_KEY]
        assert direct[got.body][message.SINCH_ACCOUNT] == "eu"
        assert got.headers[message.RELAY_SOURCE] == "quarantine"
    assert second.counts == {"still refused (bad_signature)": 1}
    assert await held.delivered() == []
    assert await held.depth() == 1
