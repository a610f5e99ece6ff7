"""Each signed request in one counter at most, on the running app: refusals in
`relay_auth_failures_total`, replays answered 200 in `relay_replays_total`, stale
signatures published once in `relay_stale_signatures_total`."""

from __future__ import annotations

import time
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from relay.edge.auth import CALLBACK_PATHS
from tests.security.conftest import MO_TEXT, RelayFactory, secrets, signed

ROUTE = "/sms/incoming"
HMAC = {"hmac_routes": CALLBACK_PATHS, "hmac_secrets": secrets("current")}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def samples(client: TestClient[Any, Any]) -> Samples:
    """The counters of the edge's signature checks on /metrics, by name and labels."""
    text = await (await client.get("/metrics")).text()
    names = ("relay_auth_failures_total", "relay_replays_total", "relay_stale_signatures_total")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in names
    }


def sample(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def test_a_replay_answered_200_is_no_auth_failure(relay: RelayFactory) -> None:
    """The second arrival of one signed request counts as a replay, not as a refusal."""
    client, publisher = await relay(**HMAC)
    headers = signed("current", MO_TEXT, "twice")
    for _ in range(2):
        assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    assert len(publisher.published) == 1
    assert await samples(client) == {sample("relay_replays_total", route=ROUTE): 1.0}


async def test_a_quarantined_stale_signature_is_counted_once_then_as_replays(
    relay: RelayFactory,
) -> None:
    """Quarantined once (outcome unrouted); each later arrival is a replay; no refusal."""
    client, publisher = await relay(**HMAC)
    headers = signed("current", MO_TEXT, "old", at=time.time() - 3600)
    for _ in range(3):
        assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 200
    assert len(publisher.published) == 1
    assert await samples(client) == {
        sample("relay_stale_signatures_total", route=ROUTE, outcome="unrouted"): 1.0,
        sample("relay_replays_total", route=ROUTE): 2.0,
    }


async def test_refusals_stay_auth_failures(relay: RelayFactory) -> None:
    """A forged signature and, under hmac_stale = "reject", a stale one: both refusals."""
    client, publisher = await relay(**HMAC, hmac_stale="reject")
    forged = signed("guess", MO_TEXT, "forged")
    stale = signed("current", MO_TEXT, "old", at=time.time() - 3600)
    for headers in (forged, stale):
        assert (await client.post(ROUTE, data=MO_TEXT, headers=headers)).status == 401
    assert publisher.published == []
    failures = "relay_auth_failures_total"
    assert await samples(client) == {
        sample(failures, route=ROUTE, reason="bad_signature", account=""): 1.0,
        sample(failures, route=ROUTE, reason="stale_timestamp", account=""): 1.0,
    }
