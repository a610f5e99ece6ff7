"""A bounded memory of signed callbacks already seen, for replay protection.

A key is claimed when a signed callback arrives, committed once it was published, and
released if publishing failed (so Sinch's retry of it is accepted). An entry lives until
its own expiry (the end of its signature's window), whatever the arrival rate: a FIFO by
count forgot a captured signature long before its timestamp left the window, and the
replay was accepted again. When the memory is full a new key is not admitted (`FULL`:
the caller answers "retry later"), so a replay is never let in and a genuine first
sighting is delayed, never dropped.
"""

from __future__ import annotations

import enum
import heapq
from typing import Protocol

from relay.edge.auth.clock import Clock


class Claim(enum.Enum):
    NEW = "new"  # first sighting: go ahead and publish
    PENDING = "pending"  # the same callback is being published right now
    DONE = "done"  # already published: a replay
    FULL = "full"  # not remembered and no room to remember it: retry later


class ReplayCache:
    def __init__(self, capacity: int, clock: Clock) -> None:
        self._capacity = capacity
        self._clock = clock
        self._entries: dict[bytes, tuple[float, bool]] = {}
        self._expiries: list[tuple[float, bytes]] = []  # a heap; stale items skipped

    def __len__(self) -> int:
        return len(self._entries)

    def claim(self, key: bytes, expires_at: float) -> Claim:
        """Record `key` as pending unless it is known and not yet expired, or memory is full."""
        self._expire()
        known = self._entries.get(key)
        if known is not None:
            return Claim.DONE if known[1] else Claim.PENDING
        if len(self._entries) >= self._capacity:
            return Claim.FULL
        self._entries[key] = (expires_at, False)
        heapq.heappush(self._expiries, (expires_at, key))
        return Claim.NEW

    def commit(self, key: bytes) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = (entry[0], True)

    def release(self, key: bytes) -> None:
        self._entries.pop(key, None)
        if len(self._expiries) > 2 * self._capacity:  # released keys' heap items: compact
            self._expiries = [(e, k) for k, (e, _) in self._entries.items()]
            heapq.heapify(self._expiries)

    def _expire(self) -> None:
        now, heap, entries = self._clock.now(), self._expiries, self._entries
        while heap and heap[0][0] <= now:
            expires_at, key = heapq.heappop(heap)
            entry = entries.get(key)
            if entry is not None and entry[0] == expires_at:
                del entries[key]


class ReplayStore(Protocol):
    """Where signed callbacks already seen are remembered: this process, or shared.

    `claim`, `commit` and `release` as `ReplayCache`'s; they raise `ReplayStoreDown` when
    the memory cannot be asked (the caller answers 503: a replay of unknown status is
    neither accepted nor refused). `shared` stores are one memory for every process and
    replica, kept for the whole retry horizon.
    """

    shared: bool

    async def claim(self, key: bytes, expires_at: float) -> Claim: ...
    async def commit(self, key: bytes) -> None: ...
    async def release(self, key: bytes) -> None: ...
    async def ready(self) -> bool: ...
    async def open(self) -> None: ...
    async def close(self) -> None: ...


class MemoryStore:
    """A `ReplayCache` of this process behind the `ReplayStore` interface (the default)."""

    shared = False

    def __init__(self, capacity: int, clock: Clock) -> None:
        self._cache = ReplayCache(capacity, clock)

    async def claim(self, key: bytes, expires_at: float) -> Claim:
        return self._cache.claim(key, expires_at)

    async def commit(self, key: bytes) -> None:
        self._cache.commit(key)

    async def release(self, key: bytes) -> None:
        self._cache.release(key)

    async def ready(self) -> bool:
        return True

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None
