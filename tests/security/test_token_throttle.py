"""The token endpoint limits wrong client secrets per source and per client (429 with
Retry-After), and no block outlasts its window."""

from __future__ import annotations

from relay.edge.auth import CALLBACK_PATHS
from relay.edge.auth.clock import Clock
from relay.edge.auth.throttle import FailureWindow
from tests.security.conftest import FixedClock, RelayFactory, secrets

OAUTH = {
    "oauth_routes": CALLBACK_PATHS,
    "oauth_clients": secrets("sinch-client:s3cret"),
    "oauth_token_keys": secrets("k"),
}
GRANT = {"grant_type": "client_credentials", "client_id": "sinch-client"}


async def test_wrong_secrets_past_the_limit_get_429_with_retry_after(
    relay: RelayFactory,
) -> None:
    """Ten wrong secrets, then 429 even for the right one from that source: guessing stops."""
    client, _ = await relay(**OAUTH, oauth_token_failures_per_source=10)
    for i in range(10):
        wrong = await client.post("/oauth/token", data={**GRANT, "client_secret": f"x{i}"})
        assert wrong.status == 401
    blocked = await client.post("/oauth/token", data={**GRANT, "client_secret": "s3cret"})
    assert blocked.status == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60


async def test_a_correct_secret_under_the_limit_is_never_counted(relay: RelayFactory) -> None:
    """The genuine client fetching tokens over and over is never throttled."""
    client, _ = await relay(**OAUTH, oauth_token_failures_per_source=2)
    for _ in range(20):
        ok = await client.post("/oauth/token", data={**GRANT, "client_secret": "s3cret"})
        assert ok.status == 200


def test_a_block_ends_with_its_window() -> None:
    """Failures past the limit block the key only until the window that counted them ends."""
    clock = FixedClock(1000.0)
    window = FailureWindow(3, 60, _clock(clock))
    for _ in range(3):
        window.failed("sinch-client")
    assert window.retry_after("sinch-client") == 60
    clock.value = 1059.5
    assert window.retry_after("sinch-client") == 1
    clock.value = 1060.0
    assert window.retry_after("sinch-client") == 0


def _clock(clock: FixedClock) -> Clock:
    return clock
