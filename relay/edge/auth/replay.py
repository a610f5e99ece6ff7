"""A bounded memory of signed callbacks already seen, for replay protection.

A key is claimed when a signed callback arrives, committed once it was published, and
released if publishing failed (so Sinch's retry of it is accepted). Entries live until
their signature timestamp leaves the tolerance window; the oldest go first when full.
"""

from __future__ import annotations

import enum
from collections import OrderedDict

from relay.edge.auth.clock import Clock


class Claim(enum.Enum):
    NEW = "new"  # first sighting: go ahead and publish
    PENDING = "pending"  # the same callback is being published right now
    DONE = "done"  # already published: a replay


class ReplayCache:
    def __init__(self, capacity: int, clock: Clock) -> None:
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, bool]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def claim(self, key: bytes, expires_at: float) -> Claim:
        """Record `key` as pending unless it is known and not yet expired."""
        self._expire()
        known = self._entries.get(key)
        if known is not None:
            return Claim.DONE if known[1] else Claim.PENDING
        self._entries[key] = (expires_at, False)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return Claim.NEW

    def commit(self, key: bytes) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = (entry[0], True)

    def release(self, key: bytes) -> None:
        self._entries.pop(key, None)

    def _expire(self) -> None:
        now = self._clock.now()
        entries = self._entries
        while entries:
            key, (expires_at, _) = next(iter(entries.items()))
            if expires_at > now:
                return
            del entries[key]
