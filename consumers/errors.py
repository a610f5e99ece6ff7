"""How a handler says what it wants: raise `Retry` or `Reject`; returning means success."""

from __future__ import annotations


class Retry(Exception):
    """Try this message again later, after `delay` seconds (None: the worker's backoff)."""

    def __init__(self, reason: str = "retry requested", delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class Reject(Exception):
    """This message can never succeed: send it to the dead-letter queue with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
