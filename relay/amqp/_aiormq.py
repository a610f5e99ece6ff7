"""Every touch of aiormq's private internals, behind a few small verbs.

The batched pipeline (relay/amqp/batched.py) writes publishes straight into aiormq's
write queue and registers its own futures in the channel's confirmation table, so that
aiormq's reader resolves them (or, for Basic.Ack, `settle_acks_inline` does); the
publisher reads the connection's private "unblocked" event. None of that is public API,
so it lives here alone: no other module names `confirmations`, `message_id_delivery_tag`,
`delivery_tag`, `write_queue`, `frames`, `ChannelFrame`, `Returning`, `FrameReceiver`
or the name-mangled event.

`SUPPORTED` says whether the installed aiormq is a minor version these verbs were
verified against (tests/unit/test_aiormq_adapter.py drives a real `aiormq.Channel`
through them). Outside that set the publisher uses the public pipeline instead.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import aiormq
import pamqp.frame
from aio_pika.abc import AbstractConnection
from aiormq.abc import ChannelFrame
from aiormq.channel import Returning
from aiormq.connection import FrameReceiver
from aiormq.exceptions import AMQPConnectionError, InvalidFrameError
from pamqp.commands import Basic
from pamqp.exceptions import PAMQPException

# aiormq minor versions whose internals the contract test was run against.
VERIFIED = frozenset({"7.2"})


def minor(release: str) -> str:
    """'7.2.4' -> '7.2': the part of a version the guard compares."""
    return ".".join(release.split(".")[:2])


INSTALLED = version("aiormq")
SUPPORTED = minor(INSTALLED) in VERIFIED


def concrete(channel: aiormq.abc.AbstractChannel) -> aiormq.Channel:
    """The concrete aiormq channel under aio-pika's: its confirm bookkeeping is used."""
    if not isinstance(channel, aiormq.Channel):
        raise TypeError(f"unexpected AMQP channel type {type(channel).__name__}")
    return channel


def register(channel: aiormq.Channel, message_id: str, waiter: asyncio.Future[Any]) -> None:
    """Take the next delivery tag for `waiter`: aiormq's reader settles it on the confirm.

    Call it only for bytes that will be written, in write order: a tag taken for a
    publish never sent shifts every later confirm onto the wrong message.
    """
    channel.delivery_tag += 1
    channel.confirmations[channel.delivery_tag] = waiter
    # Basic.Return carries no delivery tag: aiormq finds the publish by message_id.
    channel.message_id_delivery_tag[message_id] = channel.delivery_tag


def forget(channel: aiormq.Channel, message_id: str) -> None:
    """Drop a settled publish's message id (kept only to match a Basic.Return)."""
    channel.message_id_delivery_tag.pop(message_id, None)


def expire(channel: aiormq.Channel, late: set[asyncio.Future[Any]]) -> None:
    """Remove timed-out waiters from the table, so that a late confirm is ignored."""
    confirmations = channel.confirmations
    for tag in [t for t, c in confirmations.items() if c in late]:
        del confirmations[tag]


def waiters(channel: aiormq.Channel) -> list[asyncio.Future[Any]]:
    """Every future still waiting for a confirm (a Basic.Return leaves a marker, skipped)."""
    return [c for c in channel.confirmations.values() if not isinstance(c, Returning)]


def settle_acks_inline(channel: aiormq.Channel) -> None:
    """Settle each Basic.Ack where aiormq's connection reader hands it to `channel`.

    aiormq queues every frame for the channel's own reader task, which then schedules
    one `call_soon` per delivery tag a multiple-ack covers: per ack frame a task wake-up,
    a `match` over nine frame classes and a handle per publish (docs/performance.md,
    "Half the reference?"). A Basic.Ack that finds the channel's frame queue empty has
    nothing before it still to be handled (a Basic.Return and its content frames stay
    queued until the channel reader has dealt with all of them, in one step), so its
    waiters are settled on the spot, in tag order. Anything else, and an ack aiormq
    would have to complain about (a tag no longer in the table), takes aiormq's path.
    """
    frames = channel.frames
    queue = frames.put
    closing = channel.closing
    confirmations = channel.confirmations

    async def put(item: tuple[int, Any]) -> None:
        frame = item[1]
        if (
            frame.__class__ is not _ACK
            or frames.qsize()
            or closing.done()
            or frame.delivery_tag not in confirmations
        ):
            return await queue(item)
        _settle(confirmations, frame)
        return None

    frames.put = put  # type: ignore[method-assign]


def _settle(confirmations: dict[int, Any], frame: Basic.Ack) -> None:
    upto = frame.delivery_tag
    if frame.multiple:
        # Waiters are registered in tag order, so the scan stops at the first later tag.
        # Only Basic.Return's marker is re-inserted out of order: it is dropped by a
        # later multiple-ack, or never looked at again (it settles nobody).
        tags = []
        for tag in confirmations:
            if tag > upto:
                break
            tags.append(tag)
    else:
        tags = [upto]
    for tag in tags:
        waiter = confirmations.pop(tag)
        if waiter.__class__ is not Returning and not waiter.done():
            waiter.set_result(frame)


_ACK = Basic.Ack


def read_frames_from_the_buffer() -> None:
    """aiormq's frame reader takes each frame from the stream's buffer in one step.

    Per frame, aiormq's `FrameReceiver.get_frame` takes a lock, fills a `BytesIO`
    through three `readexactly` awaits and decodes with pamqp: about 55k instructions
    for one Basic.Ack, 26k of them pamqp's generic decoder (docs/performance.md, "Half
    the reference?"). Here a frame whole in the buffer is taken at once, as
    `readexactly` takes bytes, and a Basic.Ack decoded with one `struct` unpack; other
    frames go to pamqp's decoder with the same bytes. Until a whole frame is there it
    waits for data under the receiver's lock, as `readexactly` waits. End of stream,
    the stream's error, the lock held, the protocol header still to come: aiormq's own
    code, so every error is aiormq's. Installed on the class (the receiver is a local
    of aiormq's connection coroutine), once, by the batched pipeline only; not at all
    if asyncio's StreamReader lacks the internals it reads (another Python's asyncio).
    """
    probe = vars(asyncio.StreamReader())
    if not {"_buffer", "_eof"} <= probe.keys() or not _STREAM_READER_METHODS:
        return
    if FrameReceiver.get_frame is not _get_frame:
        global _aiormq_get_frame
        _aiormq_get_frame = FrameReceiver.get_frame
        FrameReceiver.get_frame = _get_frame  # type: ignore[method-assign]


async def _get_frame(self: FrameReceiver) -> Any:
    reader: Any = self.reader
    buffer = reader._buffer
    while self.started and reader.exception() is None and not self.lock.locked():
        if len(buffer) > _FRAME_HEAD.size:
            kind, channel, size = _FRAME_HEAD.unpack_from(buffer)
            end = _FRAME_HEAD.size + size + 1
            if len(buffer) >= end:
                return _take(reader, buffer, kind, channel, end)
        if reader._eof:
            break
        async with self.lock:
            try:
                await reader._wait_for_data("readexactly")
            except Exception:  # the stream's error: aiormq's path raises it as aiormq does
                break
        if reader._eof and not buffer:  # aiormq's readexactly(1) would have hit the end
            raise AMQPConnectionError(_CLOSED) from asyncio.IncompleteReadError(b"", 1)
    return await _aiormq_get_frame(self)


def _take(reader: Any, buffer: bytearray, kind: int, channel: int, end: int) -> Any:
    """The frame at the buffer's start, `end` bytes: (bytes consumed, channel, frame)."""
    if end == _ACK_FRAME.size:
        _, _, _, method, tag, bits, last = _ACK_FRAME.unpack_from(buffer)
        if kind == 1 and method == _ACK_METHOD and last == _FRAME_END:
            del buffer[:end]
            reader._maybe_resume_transport()
            return end, channel, Basic.Ack(tag, bool(bits & 1))
    data = bytes(buffer[:end])
    del buffer[:end]
    reader._maybe_resume_transport()
    try:
        return pamqp.frame.unmarshal(data)
    except PAMQPException as exc:
        raise InvalidFrameError(str(exc)) from exc


_aiormq_get_frame: Callable[[FrameReceiver], Any] = FrameReceiver.get_frame
_FRAME_HEAD = struct.Struct(">BHI")  # frame type, channel, payload size
# A Basic.Ack method frame whole: head, class and method id, delivery tag, bits, end.
# The tag signed, as pamqp decodes a long-long.
_ACK_FRAME = struct.Struct(">BHIIqBB")
_ACK_METHOD = (Basic.frame_id << 16) | Basic.Ack.frame_id
_FRAME_END = 0xCE
_CLOSED = "Server connection unexpectedly closed. Read 0 bytes but 1 bytes expected"
_STREAM_READER_METHODS = all(
    callable(getattr(asyncio.StreamReader, name, None))
    for name in ("_wait_for_data", "_maybe_resume_transport", "exception")
)


def can_write(channel: aiormq.Channel) -> bool:
    """Open, and the connection's write queue has a free slot for one more write.

    aiormq's write queue is the connection's, shared by every channel, and holds only
    `FRAME_BUFFER_SIZE` (10) writes; the writer task empties it as the socket drains.
    """
    return not channel.is_closed and not channel.write_queue.full()


def write(channel: aiormq.Channel, payload: bytes) -> None:
    """Queue ready-framed bytes for the connection's writer (check `can_write` first)."""
    channel.write_queue.put_nowait(ChannelFrame(payload=payload, should_close=False))


def max_content_size(channel: aiormq.Channel) -> int:
    """The largest body frame payload the connection's negotiated frame size allows."""
    return int(channel.max_content_size)


def on_close(channel: aiormq.Channel, callback: Callable[[asyncio.Future[Any]], None]) -> None:
    """Call `callback` once the channel starts closing (for any reason)."""
    channel.closing.add_done_callback(callback)


def unblocked_event(connection: AbstractConnection) -> asyncio.Event | None:
    """The event aiormq clears on connection.blocked (a memory or disk alarm).

    aiormq tracks this in a private event and has no public accessor; read it
    defensively, once per connection, so that a change in aiormq degrades to "never
    blocked", not to a crash.
    """
    transport = getattr(connection, "transport", None)
    raw = getattr(transport, "connection", None)
    event = getattr(raw, "_Connection__connection_unblocked", None)
    return event if isinstance(event, asyncio.Event) else None
