"""HMAC routes on the running app: rotation, replay, stale timestamps, never a lost callback."""

from __future__ import annotations

import asyncio
import time

from relay.edge.auth import CALLBACK_PATHS
from relay.errors import Unavailable
from tests.security.conftest import (
    MO_TEXT,
    VECTOR_BODY,
    VECTOR_NONCE,
    VECTOR_SECRET,
    VECTOR_SIGNATURE,
    VECTOR_TIMESTAMP,
    RelayFactory,
    secrets,
    signed,
)
from tests.support.fakes import headers_of

ROUTE = "/sms/incoming"
HMAC = {"hmac_routes": CALLBACK_PATHS, "hmac_secrets": secrets("current", "previous")}


async def test_signed_callback_is_published(relay: RelayFactory) -> None:
    """A fresh, correctly signed callback is accepted and published unchanged."""
    client, publisher = await relay(**HMAC)
    response = await client.post(ROUTE, data=MO_TEXT, headers=signed("current", MO_TEXT, "n1"))
    assert response.status == 200
    assert [m.body for m in publisher.published] == [MO_TEXT]


async def test_rotation_accepts_both_secrets_on_the_running_app(relay: RelayFactory) -> None:
    """During a rotation, callbacks signed with the old or the new secret both get through."""
    client, publisher = await relay(**HMAC)
    for secret, nonce in (("previous", "a"), ("current", "b")):
        response = await client.post(ROUTE, data=MO_TEXT, headers=signed(secret, MO_TEXT, nonce))
        assert response.status == 200
    assert len(publisher.published) == 2


async def test_forged_or_unsigned_callback_is_401_and_not_published(relay: RelayFactory) -> None:
    """Wrong secret or no signature: 401 with no detail, counted, nothing published."""
    client, publisher = await relay(**HMAC)
    forged = await client.post(ROUTE, data=MO_TEXT, headers=signed("guess", MO_TEXT, "n"))
    unsigned = await client.post(ROUTE, data=MO_TEXT)
    assert (forged.status, unsigned.status) == (401, 401)
    assert (await forged.json())["error"] == "unauthorized"
    assert publisher.published == []
    metrics = await (await client.get("/metrics")).text()
    sample = 'relay_auth_failures_total{account="",reason="bad_signature",route="/sms/incoming"}'
    assert f"{sample} 1.0" in metrics
    assert 'reason="missing_signature"' in metrics


async def test_every_callback_path_needs_a_signature(relay: RelayFactory) -> None:
    """No callback path is left open next to signed ones: any type may arrive on any."""
    client, publisher = await relay(**HMAC)
    for path in CALLBACK_PATHS:
        assert (await client.post(path, data=VECTOR_BODY)).status == 401
    assert publisher.published == []


async def test_replay_within_window_is_answered_200_but_not_republished(
    relay: RelayFactory,
) -> None:
    """A second arrival of the same signed request is acknowledged without a second publish."""
    client, publisher = await relay(**HMAC)
    headers = signed("current", MO_TEXT, "once")
    first = await client.post(ROUTE, data=MO_TEXT, headers=headers)
    again = await client.post(ROUTE, data=MO_TEXT, headers=headers)
    assert (first.status, again.status) == (200, 200)
    assert len(publisher.published) == 1
    metrics = await (await client.get("/metrics")).text()
    assert 'relay_replays_total{route="/sms/incoming"} 1.0' in metrics


async def test_replay_is_detected_across_routes(relay: RelayFactory) -> None:
    """The replay memory is shared: the same signed request on another URL is suppressed."""
    client, publisher = await relay(**HMAC)
    headers = signed("current", MO_TEXT, "x")
    assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    assert (await client.post("/sms", data=MO_TEXT, headers=headers)).status == 200
    assert len(publisher.published) == 1


async def test_retry_after_failed_publish_is_accepted(relay: RelayFactory) -> None:
    """A 503 releases the signature, so Sinch's identical retry is published, not suppressed."""
    client, publisher = await relay(**HMAC)
    headers = signed("current", MO_TEXT, "retry")
    publisher.fail = Unavailable("down")
    assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 503
    publisher.fail = None
    assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    assert len(publisher.published) == 1


async def test_duplicate_while_first_is_publishing_gets_429(relay: RelayFactory) -> None:
    """A concurrent twin is told to retry (429), never 4xx-dropped, never published twice."""
    client, publisher = await relay(**HMAC)
    gate = asyncio.Event()
    original = publisher.publish

    async def slow_publish(message: object) -> None:
        await gate.wait()
        await original(message)  # type: ignore[arg-type]

    publisher.publish = slow_publish  # type: ignore[method-assign]
    headers = signed("current", MO_TEXT, "twin")
    first = asyncio.ensure_future(client.post(ROUTE, data=MO_TEXT, headers=headers))
    await asyncio.sleep(0.05)
    twin = await client.post(ROUTE, data=MO_TEXT, headers=headers)
    gate.set()
    assert (twin.status, (await first).status) == (429, 200)
    assert twin.headers["Retry-After"]
    assert len(publisher.published) == 1


async def test_stale_genuine_callback_is_quarantined_to_unrouted(relay: RelayFactory) -> None:
    """Sinch's 2025 vector is genuine but stale: relayed to the unrouted exchange, not lost."""
    client, publisher = await relay(hmac_routes=CALLBACK_PATHS, hmac_secrets=secrets(VECTOR_SECRET))
    headers = {
        "x-sinch-webhook-signature": VECTOR_SIGNATURE,
        "x-sinch-webhook-signature-nonce": VECTOR_NONCE,
        "x-sinch-webhook-signature-timestamp": VECTOR_TIMESTAMP,
    }
    response = await client.post("/sms", data=VECTOR_BODY, headers=headers)
    assert response.status == 200
    [message] = publisher.published
    assert message.exchange == "sinch.sms.unrouted"
    assert message.body == VECTOR_BODY
    assert headers_of(message)["x-unrouted-reason"] == "stale_signature"


async def test_stale_callback_is_401_when_policy_is_reject(relay: RelayFactory) -> None:
    """With hmac_stale = "reject", a signature older than the window is refused."""
    client, publisher = await relay(**HMAC, hmac_stale="reject")
    headers = signed("current", MO_TEXT, "old", at=time.time() - 301)
    assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 401
    assert publisher.published == []


async def test_a_replayed_stale_signature_is_quarantined_only_once(relay: RelayFactory) -> None:
    """Replaying one captured stale signature cannot grow the unrouted queue."""
    client, publisher = await relay(**HMAC)
    headers = signed("current", MO_TEXT, "old", at=time.time() - 3600)
    for _ in range(5):
        assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    [message] = publisher.published
    assert headers_of(message)["x-unrouted-reason"] == "stale_signature"


async def test_a_full_replay_memory_answers_429_and_keeps_refusing_replays(
    relay: RelayFactory,
) -> None:
    """Over capacity a new signature waits (429, retried); a known one is still no replay."""
    client, publisher = await relay(**HMAC, replay_cache_size=2)
    first = signed("current", MO_TEXT, "n-0")
    for nonce in ("n-0", "n-1"):
        headers = signed("current", MO_TEXT, nonce)
        assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    full = await client.post(ROUTE, data=MO_TEXT, headers=signed("current", MO_TEXT, "n-2"))
    assert (full.status, "Retry-After" in full.headers) == (429, True)
    assert (await client.post(ROUTE, data=MO_TEXT, headers=first)).status == 200
    assert len(publisher.published) == 2
