"""Fuzzing through the real aiohttp app: random and mutated bodies, hostile headers, on an open
and a guarded app. No 5xx from the relay's own code, and nothing published for a 4xx."""

from __future__ import annotations

import os
import time

from relay.edge.auth.signature import signature
from tests.security.conftest import RelayFactory, secrets
from tests.security.mutator import header_values, mutated_bodies

INPUTS = int(600 * float(os.environ.get("RELAY_FUZZ_SCALE", "1")))
GUARDED = {
    "hmac_routes": ("/sms", "/sms/incoming"),  # with Basic below: no callback path open
    "hmac_secrets": secrets("s"),
    "basic_routes": ("/sms/delivery-report",),
    "basic_credentials": secrets("u:p"),
}
PATHS = ("/sms", "/sms/incoming", "/sms/delivery-report")


async def test_app_answers_fuzzed_requests_without_5xx(relay: RelayFactory) -> None:
    """Each input: a status below 500, and a publish only when the answer was 2xx."""
    guarded, publisher = await relay(**GUARDED)
    unguarded, open_publisher = await relay()
    values = header_values(seed=23, count=INPUTS * 2)
    statuses: dict[int, int] = {}
    for i, body in enumerate(mutated_bodies(seed=19, count=INPUTS)):
        headers = {
            "Authorization": next(values),
            "x-sinch-webhook-signature": next(values),
            "x-sinch-webhook-signature-nonce": str(i),
            "x-sinch-webhook-signature-timestamp": str(int(time.time())),
        }
        client, sink = (unguarded, open_publisher) if i % 4 == 3 else (guarded, publisher)
        before = len(sink.published)
        response = await client.post(PATHS[i % 3], data=body, headers=headers)
        await response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        assert response.status < 500, (body, headers)
        published = len(sink.published) - before
        assert published == (1 if response.status == 200 else 0)
    assert sum(statuses.values()) == INPUTS
    assert statuses.get(401, 0) > 0
    assert statuses.get(400, 0) > 0


async def test_signed_mutations_publish_exactly_once(relay: RelayFactory) -> None:
    """Correctly signed fuzz bodies pass HMAC; each is published once, replays never."""
    client, publisher = await relay(**GUARDED)
    n = INPUTS // 3
    accepted = 0
    for i, body in enumerate(mutated_bodies(seed=29, count=n)):
        timestamp = str(int(time.time()))
        headers = {
            "x-sinch-webhook-signature": signature("s", body, f"n{i}", timestamp),
            "x-sinch-webhook-signature-nonce": f"n{i}",
            "x-sinch-webhook-signature-timestamp": timestamp,
        }
        first = await client.post("/sms/incoming", data=body, headers=headers)
        again = await client.post("/sms/incoming", data=body, headers=headers)
        assert first.status in (200, 400)
        assert again.status == first.status
        accepted += first.status == 200
    assert len(publisher.published) == accepted
    assert accepted > 0
