"""Reading a request body within bounds: its time, the bytes all bodies hold at once, and
a client that leaves mid-body.

A stalled body used to hold its connection and buffer forever (400 stalled 1 MiB bodies
took one relay from 319 MB to about 1 GB). Each body now reserves its size from one
budget before a byte is read (the declared `Content-Length`, or the route's limit when
chunked) and returns it when the request ends; over the budget the answer is 503 with
`Retry-After`, which Sinch retries, and the body is never read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from relay.errors import BodiesOverBudget, ClientGone, EncodedBody, ParseBudgetSpent, SlowBody


class BodyBudget:
    """The bytes request bodies may hold at once, shared by every request of one app."""

    def __init__(self, limit: int, unknown_size: int) -> None:
        """`unknown_size`: what a body without `Content-Length` reserves (the largest limit)."""
        self._limit = limit
        self._unknown = unknown_size
        self.held = 0

    def size_of(self, request: web.BaseRequest) -> int:
        if not request.body_exists:
            return 0
        declared = request.content_length
        return self._unknown if declared is None else min(declared, self._unknown)

    def reserve(self, size: int) -> int:
        """Reserve `size` bytes (give them back with `release`), or `BodiesOverBudget`.

        A pair of calls, not a context manager: this runs on every request, and a
        generator-based one costs more than the rest of the bookkeeping together.
        """
        if self.held + size > self._limit:
            raise BodiesOverBudget("held_body_bytes")
        self.held += size
        return size

    def release(self, size: int) -> None:
        self.held -= size


class ParseBudget:
    """A token bucket of parsing time for large bodies, in seconds per second.

    The event loop parses one body at a time: a 1 MiB body of nested arrays costs ~100 ms
    of CPU (a "ladder" of arrays nested 350,000 deep ~300 ms), so 16 such connections
    queued seconds in front of every genuine callback. Bodies of at least `large` bytes (a
    genuine callback is a few hundred; a big delivery-report batch is rare) are charged
    the time their parse really took; while the bucket is empty they get 503 with
    `Retry-After` (Sinch retries) before parsing. So large parses take at most `share` of
    the loop, and a small callback waits for at most one of them.
    """

    def __init__(self, large: int, share: float, clock: Callable[[], float]) -> None:
        self._large = large
        self._share = share
        self._burst = share  # admitted while above 0: one parse may overdraw it
        self._clock = clock
        self._tokens = self._burst
        self._stamp = clock()

    def is_large(self, size: int) -> bool:
        return size >= self._large

    def admit(self) -> None:
        """`ParseBudgetSpent` while large parses have used up their share of the loop."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._share)
        self._stamp = now
        if self._tokens <= 0:
            raise ParseBudgetSpent("large_body_budget")

    def charge(self, seconds: float) -> None:
        self._tokens -= seconds


def refuse_encoded(request: web.BaseRequest) -> None:
    """`EncodedBody` unless the body is sent as is (no `Content-Encoding`, or identity)."""
    encoding = request.headers.get("Content-Encoding")
    if encoding is not None and encoding.strip().lower() not in ("", "identity"):
        raise EncodedBody("content_encoding")


async def read_body(request: web.Request, seconds: float) -> bytes:
    """The whole body within `seconds` (0: no limit).

    `SlowBody` (503) if it takes longer; `ClientGone` if the client disconnects first.
    """
    if not seconds or request.content.is_eof():
        # Already all here (a small callback arrives with its headers): nothing to time.
        return await _read(request)
    try:
        async with asyncio.timeout(seconds):
            return await request.read()
    except TimeoutError:
        raise SlowBody("body_timeout") from None
    except ConnectionResetError as exc:  # aiohttp's "Connection lost" while the body streamed in
        raise _gone(exc) from None


async def _read(request: web.Request) -> bytes:
    try:
        return await request.read()
    except ConnectionResetError as exc:
        raise _gone(exc) from None


def _gone(lost: ConnectionResetError) -> ClientGone:
    """`ClientGone`, after cutting `lost` loose from the frames it was raised through.

    aiohttp keeps `lost` on the request's stream (raised again on any later read), and
    its traceback holds the frames of that stream's own read: a reference cycle that
    kept each departed client's buffered body until a full garbage collection, which an
    idle relay may never run (after the attack run's 200 stalled clients, ~10 MiB that
    RSS never gave back). Without the traceback, the body goes with the request.
    """
    lost.__traceback__ = None
    return ClientGone("client_disconnected")
