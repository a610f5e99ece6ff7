"""The replay store seam: the memory default, the Redis store's names, and its setting."""

from __future__ import annotations

import pytest

from relay.config import ConfigError, load_settings
from relay.edge.auth.replay import Claim, MemoryStore
from relay.edge.auth.replay_redis import PREFIX, RedisStore, redacted, redis_key
from relay.errors import ReplayStoreDown
from relay.telemetry.metrics import create_metrics
from tests.security.conftest import FixedClock
from tests.support.ports import free_port

SIGNATURE = bytes(range(32))


async def test_memory_store_publishes_once_and_forgets_a_released_claim() -> None:
    """NEW once, PENDING while publishing, DONE after commit; a released key is NEW again."""
    store = MemoryStore(10, FixedClock(0))
    assert await store.claim(b"a", 100) is Claim.NEW
    assert await store.claim(b"a", 100) is Claim.PENDING
    await store.commit(b"a")
    assert await store.claim(b"a", 100) is Claim.DONE
    assert await store.claim(b"b", 100) is Claim.NEW
    await store.release(b"b")
    assert await store.claim(b"b", 100) is Claim.NEW


async def test_memory_store_is_not_shared_and_always_ready() -> None:
    """The default store is this process's own: stale signatures keep today's quarantine."""
    store = MemoryStore(1, FixedClock(0))
    await store.open()
    assert store.shared is False
    assert await store.ready() is True
    await store.close()


def test_redis_key_is_a_namespaced_digest_never_the_signature() -> None:
    """The key is `sinch-relay:replay:` and a SHA-256 hex digest: the signature stays here."""
    key = redis_key(SIGNATURE)
    assert key.startswith(PREFIX)
    assert len(key) == len(PREFIX) + 64
    assert SIGNATURE.hex() not in key


def test_a_redis_url_is_redacted_for_logs_and_repr() -> None:
    """A password in the store URL never reaches a log line or a repr."""
    url = "redis://relay:hunter2@redis.internal:6379/0"
    assert "hunter2" not in redacted(url)
    assert "hunter2" not in repr(RedisStore(url, 3600))
    assert redacted("redis://127.0.0.1:6379/") == "redis://127.0.0.1:6379/"


@pytest.mark.parametrize("value", ["memory", "redis://127.0.0.1:6379/0", "rediss://h:6380"])
def test_replay_store_accepts_memory_or_a_redis_url(value: str) -> None:
    """`memory` and redis:// or rediss:// URLs are valid settings."""
    settings = load_settings(environ={"RELAY_SECURITY_REPLAY_STORE": value})
    assert settings.security.replay_store == value


def test_a_bad_replay_store_names_the_key_and_variable_but_not_the_value() -> None:
    """Anything else stops start-up, naming where to fix it without echoing a password."""
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"RELAY_SECURITY_REPLAY_STORE": "http://u:secretpw@h/"})
    message = str(raised.value)
    assert "security.replay_store" in message
    assert "RELAY_SECURITY_REPLAY_STORE" in message
    assert "secretpw" not in message


def test_the_replay_store_url_stays_out_of_the_settings_repr() -> None:
    """Settings may be printed when debugging: the Redis password must not be."""
    environ = {"RELAY_SECURITY_REPLAY_STORE": "redis://:hunter2@127.0.0.1/"}
    assert "hunter2" not in repr(load_settings(environ=environ))


async def test_an_unreachable_redis_is_store_down_and_not_ready() -> None:
    """Nothing listening: claim raises `ReplayStoreDown` (503) and readiness is False."""
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/", 3600)
    await store.open()
    try:
        with pytest.raises(ReplayStoreDown):
            await store.claim(SIGNATURE, 0)
        assert await store.ready() is False
    finally:
        await store.close()


async def test_every_failed_redis_command_is_counted_by_operation() -> None:
    """relay_replay_store_errors_total: claim, commit, release and the readiness ping."""
    metrics = create_metrics()
    store = RedisStore(
        f"redis://127.0.0.1:{free_port()}/", 3600, errors=metrics.replay_store_errors
    )
    await store.open()
    try:
        for attempt in (store.claim(SIGNATURE, 0), store.commit(SIGNATURE)):
            with pytest.raises(ReplayStoreDown):
                await attempt
        with pytest.raises(ReplayStoreDown):
            await store.release(SIGNATURE)
        assert await store.ready() is False
    finally:
        await store.close()
    counted = {
        op: metrics.registry.get_sample_value("relay_replay_store_errors_total", {"operation": op})
        for op in ("claim", "commit", "release", "ping")
    }
    assert counted == {"claim": 1, "commit": 1, "release": 1, "ping": 1}
