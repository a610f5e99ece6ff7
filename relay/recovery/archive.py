"""Reading the archive stream over AMQP 0-9-1: every message of a time window, bounded.

A stream consumer needs a prefetch (basic.qos) and acks, and says where to attach with
`x-stream-offset`: a timestamp attaches at the chunk holding it (so a little earlier
than asked; the window filter drops those), `last` at the stream's last chunk. The read
is bounded by the stream's end as it was when it began: `end_offset` reads the last
chunk first, and the read stops there, so callbacks arriving meanwhile never make it
run on. A message is in the window by its AMQP `timestamp`, which the relay sets when it
publishes (whole seconds). The stream's chunk timestamps are the broker's clock, not
the relay's: the read attaches `CLOCK_SKEW` before the window, so a broker clock behind
the relays' (an Erlang VM still correcting after the host's clock was stepped lagged the
OS clock by 5 s here) cannot attach past the window's first messages.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from relay.recovery.broker import RecoveryError
from relay.recovery.window import Window

OFFSET = "x-stream-offset"  # the header a stream sets on each delivery
PREFETCH = 200
# A stream consumer is served as fast as the socket allows: this long without a
# delivery means it has caught up with the stream's end.
IDLE = 2.0
# How far the broker's clock may lag the relays' before a read could miss the window's
# start; reading this much more of the stream costs little against a missed callback.
CLOCK_SKEW = datetime.timedelta(minutes=5)

Inbox = asyncio.Queue[AbstractIncomingMessage]


class ArchiveMissing(RecoveryError):
    """The archive stream does not exist (archive.enabled was never on?)."""


async def end_offset(channel: AbstractChannel, stream: str, idle: float = IDLE) -> int | None:
    """The offset of the stream's last message now; None if it holds none."""
    last: int | None = None
    async with attached(channel, stream, "last") as inbox:
        while (message := await _next(inbox, idle)) is not None:
            last = _offset(message)
            await message.ack()
    return last


async def read(
    channel: AbstractChannel, stream: str, window: Window, idle: float = IDLE
) -> AsyncIterator[AbstractIncomingMessage]:
    """Each message of `window` in stream order, up to the end as it was at the start.

    A message is acked (stream credit) once the caller has moved on from it.
    """
    end = await end_offset(channel, stream, idle)
    if end is None:
        return
    async with attached(channel, stream, window.since - CLOCK_SKEW) as inbox:
        while (message := await _next(inbox, idle)) is not None:
            offset = _offset(message)
            if offset <= end and window.holds(sent_at(message)):
                yield message
            await message.ack()
            if offset >= end:
                return


@asynccontextmanager
async def attached(channel: AbstractChannel, stream: str, offset: Any) -> AsyncIterator[Inbox]:
    """The deliveries of a consumer on `stream` from `offset`, cancelled on exit."""
    await _exists(channel, stream)
    await channel.set_qos(prefetch_count=PREFETCH)
    queue = await channel.get_queue(stream, ensure=False)
    inbox: Inbox = asyncio.Queue()
    tag = await queue.consume(inbox.put, arguments={OFFSET: offset})
    try:
        yield inbox
    finally:
        await queue.cancel(tag)


def sent_at(message: AbstractIncomingMessage) -> datetime.datetime:
    """When the relay published `message` (its AMQP timestamp), aware, UTC."""
    when = message.timestamp
    if when is None:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


async def _exists(channel: AbstractChannel, stream: str) -> None:
    try:
        await channel.declare_queue(stream, passive=True)
    except Exception as exc:  # aiormq closes the channel with 404 NOT_FOUND
        raise ArchiveMissing(f"archive stream {stream!r} does not exist "
                             "(is archive.enabled on?)") from exc  # fmt: skip


async def _next(inbox: Inbox, idle: float) -> AbstractIncomingMessage | None:
    try:
        return await asyncio.wait_for(inbox.get(), idle)
    except TimeoutError:
        return None


def _offset(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get(OFFSET)
    if not isinstance(value, int):
        raise RecoveryError(f"a delivery from the archive has no {OFFSET} header")
    return value
