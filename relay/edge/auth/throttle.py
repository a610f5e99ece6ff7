"""Failure limits for the token endpoint: a bounded count of wrong client secrets per
source address and per client id, in fixed windows.

`/oauth/token` accepted thousands of wrong secrets per second. Past the limit a key gets
429 with `Retry-After` until its window ends, without its credentials being checked, so
guessing stops paying. A block never outlasts the window that started with its first
failure: the genuine client, even if someone guesses against its id, is kept out for at
most `window` seconds at a time, and a correct secret is never counted.
"""

from __future__ import annotations

import math

from relay.edge.auth.clock import Clock

_MAX_KEYS = 10_000  # distinct sources/clients tracked at once; the oldest window goes first


class FailureWindow:
    """Failures per key in fixed windows of `window` seconds, at most `limit` each."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._counts: dict[str, tuple[float, int]] = {}  # key -> (window start, failures)

    def retry_after(self, key: str) -> int:
        """Seconds `key` must wait (0: it may try now)."""
        entry = self._live(key)
        if entry is None or entry[1] < self._limit:
            return 0
        return max(1, math.ceil(entry[0] + self._window - self._clock.now()))

    def failed(self, key: str) -> None:
        entry = self._live(key)
        start, count = entry if entry is not None else (self._clock.now(), 0)
        self._counts.pop(key, None)  # re-insert: dict order stays oldest-first
        self._counts[key] = (start, count + 1)
        while len(self._counts) > _MAX_KEYS:
            del self._counts[next(iter(self._counts))]

    def _live(self, key: str) -> tuple[float, int] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[0] + self._window <= self._clock.now():
            del self._counts[key]
            return None
        return entry


class TokenThrottle:
    """The per-source and per-client windows of one token endpoint."""

    def __init__(self, per_source: FailureWindow, per_client: FailureWindow) -> None:
        self._sources = per_source
        self._clients = per_client

    def retry_after(self, source: str, client: str) -> int:
        return max(self._sources.retry_after(source), self._clients.retry_after(client))

    def failed(self, source: str, client: str) -> None:
        self._sources.failed(source)
        self._clients.failed(client)
