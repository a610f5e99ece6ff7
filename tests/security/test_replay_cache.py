"""The replay memory: claim, commit, release, expiry with the window, bounded size."""

from __future__ import annotations

from relay.edge.auth.replay import Claim, ReplayCache
from tests.security.conftest import FixedClock


def test_claim_commit_then_replay_is_done() -> None:
    """A committed key is reported as already published."""
    cache = ReplayCache(10, FixedClock(0))
    assert cache.claim(b"k", 300) is Claim.NEW
    assert cache.claim(b"k", 300) is Claim.PENDING
    cache.commit(b"k")
    assert cache.claim(b"k", 300) is Claim.DONE


def test_released_key_can_be_claimed_again() -> None:
    """A failed publish forgets the key, so the sender's retry is new."""
    cache = ReplayCache(10, FixedClock(0))
    cache.claim(b"k", 300)
    cache.release(b"k")
    assert cache.claim(b"k", 300) is Claim.NEW


def test_entries_expire_with_the_window() -> None:
    """Once its timestamp has left the window, a key is forgotten."""
    clock = FixedClock(0)
    cache = ReplayCache(10, clock)
    cache.claim(b"k", 300)
    cache.commit(b"k")
    clock.value = 301
    assert cache.claim(b"other", 601) is Claim.NEW
    assert len(cache) == 1


def test_capacity_bounds_memory_dropping_oldest() -> None:
    """A flood of distinct keys never grows the cache past its capacity."""
    cache = ReplayCache(100, FixedClock(0))
    for i in range(1000):
        cache.claim(i.to_bytes(4, "big"), 300)
    assert len(cache) == 100
    assert cache.claim((999).to_bytes(4, "big"), 300) is Claim.PENDING
    assert cache.claim((0).to_bytes(4, "big"), 300) is Claim.NEW
