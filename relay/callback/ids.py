"""Unique ids for requests and messages, cheaper than a uuid4 per call.

A random 64-bit prefix per process (so processes and restarts never collide) followed
by a counter: uuid4 showed up in the request's profile (docs/performance.md).
"""

from __future__ import annotations

import itertools
import secrets


class IdSource:
    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):012x}"
