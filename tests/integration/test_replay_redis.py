"""The Redis replay store against a real Redis: atomic claims, the horizon, release, the app."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient

from relay.config import SecuritySettings, Settings
from relay.contract import message
from relay.edge.app import create_app
from relay.edge.auth import CALLBACK_PATHS
from relay.edge.auth.replay import Claim
from relay.edge.auth.replay_redis import PENDING_SECONDS, RedisStore, redis_key
from relay.errors import ReplayStoreDown, Unavailable
from tests.security.conftest import MO_TEXT, secrets, signed
from tests.support.fakes import FakePublisher, headers_of
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

HORIZON = 48 * 3600
ROUTE = "/sms/incoming"

StoreFactory = Callable[[], Awaitable[RedisStore]]


@pytest.fixture
async def prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards (never FLUSHDB)."""
    name = f"sinch-relay-test:{uuid.uuid4().hex}:"
    yield name
    async with aioredis.Redis.from_url(redis_url) as client:
        keys = [key async for key in client.scan_iter(match=name + "*")]
        if keys:
            await client.delete(*keys)


@pytest.fixture
async def stores(redis_url: str, prefix: str) -> AsyncIterator[StoreFactory]:
    """Open Redis stores sharing `prefix`, as separate processes' would (closed after)."""
    opened: list[RedisStore] = []

    async def make() -> RedisStore:
        store = RedisStore(redis_url, HORIZON, prefix)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def _pttl(redis_url: str, key: str) -> int:
    async with aioredis.Redis.from_url(redis_url) as client:
        return int(await client.pttl(key))


async def test_a_claim_is_seen_by_every_process_and_published_once(stores: StoreFactory) -> None:
    """One store's claim is PENDING to another; once committed it is DONE to both."""
    first, second = await stores(), await stores()
    assert await first.claim(b"sig", 0) is Claim.NEW
    assert await second.claim(b"sig", 0) is Claim.PENDING
    await first.commit(b"sig")
    assert await first.claim(b"sig", 0) is Claim.DONE
    assert await second.claim(b"sig", 0) is Claim.DONE


async def test_a_pending_claim_expires_and_a_published_one_lasts_the_horizon(
    stores: StoreFactory, redis_url: str, prefix: str
) -> None:
    """Pending: about PENDING_SECONDS (an orphan frees itself); published: the horizon."""
    store = await stores()
    key = redis_key(b"sig", prefix)
    await store.claim(b"sig", 0)
    assert 0 < await _pttl(redis_url, key) <= PENDING_SECONDS * 1000
    await store.commit(b"sig")
    assert (HORIZON - 5) * 1000 < await _pttl(redis_url, key) <= HORIZON * 1000


async def test_only_the_claimer_releases_its_claim(stores: StoreFactory) -> None:
    """Another process's release leaves the claim; the claimer's frees it for the retry."""
    first, second = await stores(), await stores()
    assert await first.claim(b"sig", 0) is Claim.NEW
    await second.release(b"sig")
    assert await second.claim(b"sig", 0) is Claim.PENDING
    await first.release(b"sig")
    assert await second.claim(b"sig", 0) is Claim.NEW


async def test_a_release_never_forgets_a_published_callback(stores: StoreFactory) -> None:
    """A late release after another process published it leaves it DONE."""
    first, second = await stores(), await stores()
    await first.claim(b"sig", 0)
    await second.commit(b"sig")
    await first.release(b"sig")
    assert await second.claim(b"sig", 0) is Claim.DONE


async def test_concurrent_claims_from_two_clients_have_exactly_one_winner(
    stores: StoreFactory,
) -> None:
    """Fifty signatures, each claimed at once by two clients: exactly one NEW each time."""
    first, second = await stores(), await stores()
    for n in range(50):
        key = f"sig-{n}".encode()
        claims = await asyncio.gather(first.claim(key, 0), second.claim(key, 0))
        assert sorted(c.value for c in claims) == ["new", "pending"]


Client = TestClient[Any, Any]


async def _app(aiohttp_client: Any, store: str) -> tuple[Client, FakePublisher]:
    security = SecuritySettings(
        hmac_routes=CALLBACK_PATHS, hmac_secrets=secrets("s"), replay_store=store
    )
    publisher = FakePublisher()
    app: web.Application = create_app(Settings(security=security), publisher)
    return await aiohttp_client(app), publisher


def _nonce() -> str:
    return uuid.uuid4().hex


async def _forget(redis_url: str, headers: dict[str, str]) -> None:
    """Delete the key the relay wrote for `headers` (the app uses the real prefix)."""
    key = redis_key(base64.b64decode(headers["x-sinch-webhook-signature"]))
    async with aioredis.Redis.from_url(redis_url) as client:
        await client.delete(key)


async def test_a_stale_genuine_callback_is_published_flagged_once_with_a_shared_store(
    aiohttp_client: Any, redis_url: str
) -> None:
    """Outside the window but never published: to the consumers with x-signature-stale."""
    client, publisher = await _app(aiohttp_client, redis_url)
    headers = signed("s", MO_TEXT, _nonce(), at=time.time() - 6 * 3600)
    try:
        first = await client.post(ROUTE, data=MO_TEXT, headers=headers)
        replay = await client.post(ROUTE, data=MO_TEXT, headers=headers)
    finally:
        await _forget(redis_url, headers)
    assert (first.status, replay.status) == (200, 200)
    [published] = publisher.published
    assert headers_of(published)[message.SIGNATURE_STALE] is True
    assert message.UNROUTED_REASON not in headers_of(published)
    assert published.exchange != Settings().topology.unrouted
    metrics = await (await client.get("/metrics")).text()
    assert 'relay_stale_signatures_total{outcome="flagged",route="/sms/incoming"} 1.0' in metrics
    assert 'relay_replays_total{route="/sms/incoming"} 1.0' in metrics
    assert "relay_auth_failures_total{" not in metrics


async def test_a_fresh_callback_is_published_once_and_not_flagged(
    aiohttp_client: Any, redis_url: str
) -> None:
    """A fresh signature through the Redis store: published unflagged, its replay 200."""
    client, publisher = await _app(aiohttp_client, redis_url)
    headers = signed("s", MO_TEXT, _nonce())
    try:
        statuses = [(await client.post(ROUTE, data=MO_TEXT, headers=headers)).status for _ in "ab"]
    finally:
        await _forget(redis_url, headers)
    assert statuses == [200, 200]
    [published] = publisher.published
    assert message.SIGNATURE_STALE not in headers_of(published)


async def test_redis_unreachable_is_503_with_retry_after_and_not_ready(
    aiohttp_client: Any,
) -> None:
    """No Redis: 503 + Retry-After, nothing published, /readyz names replay_store."""
    client, publisher = await _app(aiohttp_client, f"redis://127.0.0.1:{free_port()}/")
    response = await client.post(ROUTE, data=MO_TEXT, headers=signed("s", MO_TEXT, _nonce()))
    assert response.status == 503
    assert "Retry-After" in response.headers
    assert publisher.published == []
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["checks"]["replay_store"] is False
    metrics = await (await client.get("/metrics")).text()
    assert 'relay_replay_store_errors_total{operation="claim"} 1.0' in metrics


async def test_redis_failing_after_the_publish_still_answers_2xx(
    aiohttp_client: Any, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Published, then Redis fails to mark it: 200 (it was published); a copy is 429."""

    async def fail(self: RedisStore, key: bytes) -> None:
        raise ReplayStoreDown("replay_store_unavailable")

    monkeypatch.setattr(RedisStore, "commit", fail)
    client, publisher = await _app(aiohttp_client, redis_url)
    headers = signed("s", MO_TEXT, _nonce())
    try:
        first = await client.post(ROUTE, data=MO_TEXT, headers=headers)
        copy = await client.post(ROUTE, data=MO_TEXT, headers=headers)
    finally:
        await _forget(redis_url, headers)
    assert (first.status, copy.status) == (200, 429)
    assert len(publisher.published) == 1


async def test_a_failed_publish_releases_its_claim_for_sinchs_retry(
    aiohttp_client: Any, redis_url: str
) -> None:
    """The broker refuses the first attempt (503): the retry is published, once."""
    client, publisher = await _app(aiohttp_client, redis_url)
    publisher.fail = Unavailable("broker down")
    headers = signed("s", MO_TEXT, _nonce())
    try:
        first = await client.post(ROUTE, data=MO_TEXT, headers=headers)
        publisher.fail = None
        retry = await client.post(ROUTE, data=MO_TEXT, headers=headers)
    finally:
        await _forget(redis_url, headers)
    assert (first.status, retry.status) == (503, 200)
    assert len(publisher.published) == 1
