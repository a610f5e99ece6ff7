"""The replay memory: claim, commit, release, expiry with each entry's own window, and a
bound that never admits a replay nor forgets a genuine first sighting."""

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


def test_each_entry_lives_until_its_own_expiry_whatever_the_order() -> None:
    """A later-arriving key with an earlier expiry goes first; none outlives its window."""
    clock = FixedClock(0)
    cache = ReplayCache(10, clock)
    cache.claim(b"late", 500)
    cache.claim(b"early", 100)
    clock.value = 101
    assert cache.claim(b"x", 900) is Claim.NEW
    assert len(cache) == 2
    assert cache.claim(b"late", 500) is Claim.PENDING


def test_a_full_memory_never_forgets_an_unexpired_key_nor_admits_a_new_one() -> None:
    """At high rates the memory fills: replays of known keys stay refused, new ones wait."""
    clock = FixedClock(0)
    cache = ReplayCache(100, clock)
    for i in range(100):
        cache.claim(i.to_bytes(4, "big"), 300)
        cache.commit(i.to_bytes(4, "big"))
    assert cache.claim(b"new", 300) is Claim.FULL
    assert cache.claim((0).to_bytes(4, "big"), 300) is Claim.DONE
    assert len(cache) == 100
    clock.value = 301
    assert cache.claim(b"new", 601) is Claim.NEW


def test_released_keys_do_not_grow_the_expiry_heap_without_bound() -> None:
    """Claim/release cycles (publish failures) keep the bookkeeping bounded."""
    cache = ReplayCache(10, FixedClock(0))
    for i in range(10_000):
        cache.claim(i.to_bytes(4, "big"), 300)
        cache.release(i.to_bytes(4, "big"))
    assert len(cache._expiries) <= 21
