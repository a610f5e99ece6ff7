"""Quarantine then redrive against a real broker: the secret-typo incident, end to end."""

from __future__ import annotations

import base64
import random

from relay.callback.validation import classify
from relay.config import Secret
from relay.contract import message, samples
from relay.contract.routing import FLOW_PATHS, ROUTES
from relay.edge.auth import CALLBACK_PATHS
from relay.edge.auth.basic import basic_header
from relay.edge.auth.clock import SystemClock
from relay.edge.auth.oauth import TokenIssuer
from relay.recovery import quarantine
from relay.recovery.broker import confirmed_channel, peek
from tests.recovery.conftest import EdgeFactory, Held, nonce
from tests.security.conftest import signed

HMAC = {"hmac_routes": CALLBACK_PATHS}


def _callbacks() -> list[tuple[str, bytes]]:
    """One genuine body of each type, with the path Sinch would post it to."""
    rng = random.Random()
    return [(FLOW_PATHS[flow], samples.sample(t, rng)) for t, flow in ROUTES.items()]


async def test_redrive_after_fixing_a_secret_typo_publishes_each_genuine_callback_once(
    held: Held, edge: EdgeFactory
) -> None:
    """Typo'd secret: all refused and held; fixed: every genuine one published once, with
    its dedup key and x-relay-source, forged ones stay; a second run publishes nothing."""
    typo = held.with_security(**HMAC, hmac_secrets=(Secret("s3cret-typo"),))
    client = await edge(typo)
    genuine = _callbacks()
    for path, body in genuine:
        response = await client.post(path, data=body, headers=signed("s3cret", body, nonce()))
        assert response.status == 401
    forged = [(p, b.replace(b'"type"', b'"forged":1,"type"', 1)) for p, b in _callbacks()[:3]]
    for path, body in forged:
        response = await client.post(path, data=body, headers=signed("guess", body, nonce()))
        assert response.status == 401
    await held.held_until(len(genuine) + len(forged))

    fixed = held.with_security(**HMAC, hmac_secrets=(Secret("s3cret"),))
    first = await held.redrive(fixed)
    delivered = await held.delivered()
    second = await held.redrive(fixed)

    assert first.counts == {quarantine.PUBLISHED: 7, "still refused (bad_signature)": 3}
    assert sorted(m.body for m in delivered) == sorted(b for _, b in genuine)
    for got in delivered:
        assert got.headers[message.DEDUP_KEY] == classify(got.body).dedup_key
        assert got.headers[message.RELAY_SOURCE] == "quarantine"
    assert second.counts == {"still refused (bad_signature)": 3}
    assert await held.delivered() == []
    assert await held.depth() == 3


async def test_a_dry_run_rechecks_and_publishes_nothing(held: Held, edge: EdgeFactory) -> None:
    """--dry-run: what would pass is listed, nothing is published or removed."""
    client = await edge(held.with_security(**HMAC, hmac_secrets=(Secret("old"),)))
    path, body = _callbacks()[0]
    assert (await client.post(path, data=body, headers=signed("new", body, nonce()))).status == 401
    await held.held_until(1)
    run = await held.redrive(held.with_security(**HMAC, hmac_secrets=(Secret("new"),)), True)
    assert run.counts == {quarantine.WOULD: 1}
    assert len(run.would) == 1
    assert await held.delivered() == []
    assert await held.depth() == 1


async def test_a_password_is_never_held_in_clear_and_still_rechecks(
    held: Held, edge: EdgeFactory
) -> None:
    """Basic with a password the relay lacks: held as user + salted digest only; once the
    password is configured, the re-check passes and the callback is published."""
    password = "correct-horse-battery-staple"
    basic = {"basic_routes": CALLBACK_PATHS}
    client = await edge(held.with_security(**basic, basic_credentials=(Secret("sinch:typo"),)))
    path, body = _callbacks()[0]
    header = basic_header("sinch", password)
    assert (await client.post(path, data=body, headers={"Authorization": header})).status == 401
    await held.held_until(1)
    async with confirmed_channel(held.settings.amqp) as channel:
        raw = await anext(peek(channel, held.settings.topology.quarantine, 1))
    stored = repr(raw.headers).encode() + raw.body
    for secret in (password.encode(), base64.b64encode(f"sinch:{password}".encode())):
        assert secret not in stored
    credential = raw.headers[message.QUARANTINE_CREDENTIAL]
    assert isinstance(credential, dict)
    assert (credential["scheme"], credential["user"]) == ("basic", "sinch")
    right = held.with_security(**basic, basic_credentials=(Secret(f"sinch:{password}"),))
    run = await held.redrive(right)
    assert run.counts == {quarantine.PUBLISHED: 1}
    assert [m.body for m in await held.delivered()] == [body]


async def test_a_token_signed_with_a_key_not_yet_configured_is_held_then_redriven(
    held: Held, edge: EdgeFactory
) -> None:
    """OAuth key rotated in the wrong order: the bearer token is held without its MAC in
    clear; with both keys configured the re-check passes."""
    oauth = {
        "oauth_routes": CALLBACK_PATHS,
        "oauth_clients": (Secret("sinch:client-secret"),),
    }
    client = await edge(held.with_security(**oauth, oauth_token_keys=(Secret("old-key"),)))
    token = TokenIssuer((Secret("new-key"),), 900, 300, SystemClock()).issue()
    path, body = _callbacks()[4]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.post(path, data=body, headers=bearer)).status == 401
    await held.held_until(1)
    async with confirmed_channel(held.settings.amqp) as channel:
        raw = await anext(peek(channel, held.settings.topology.quarantine, 1))
    assert token.rpartition(".")[2].encode() not in repr(raw.headers).encode()
    still_old = await held.redrive(
        held.with_security(**oauth, oauth_token_keys=(Secret("old-key"),))
    )
    both = held.with_security(**oauth, oauth_token_keys=(Secret("new-key"), Secret("old-key")))
    run = await held.redrive(both)
    assert still_old.counts == {"still refused (bad_credentials)": 1}
    assert run.counts == {quarantine.PUBLISHED: 1}


async def test_a_source_allowed_later_passes_and_an_open_route_never_does(
    held: Held, edge: EdgeFactory
) -> None:
    """403 from an address not yet allowed: redriven once allowed; with the route open
    (no check at all today) it stays, since nothing proves it genuine."""
    client = await edge(held.with_security(allow_cidrs=("10.0.0.0/8",)))
    path, body = _callbacks()[1]
    assert (await client.post(path, data=body)).status == 403
    await held.held_until(1)
    open_now = await held.redrive(held.with_security())
    allowed = await held.redrive(held.with_security(allow_cidrs=("127.0.0.0/8",)))
    assert open_now.counts == {"still refused (route_open_now)": 1}
    assert allowed.counts == {quarantine.PUBLISHED: 1}


async def test_one_callback_held_twice_is_published_once(held: Held, edge: EdgeFactory) -> None:
    """The same genuine body signed twice (a captured request replayed): one publish, the
    other copy removed as its duplicate."""
    client = await edge(held.with_security(**HMAC, hmac_secrets=(Secret("typo"),)))
    path, body = _callbacks()[4]
    for _ in range(2):
        response = await client.post(path, data=body, headers=signed("right", body, nonce()))
        assert response.status == 401
    await held.held_until(2)
    run = await held.redrive(held.with_security(**HMAC, hmac_secrets=(Secret("right"),)))
    assert run.counts == {quarantine.PUBLISHED: 1, quarantine.DUPLICATE: 1}
    assert [m.body for m in await held.delivered()] == [body]
    assert await held.depth() == 0
