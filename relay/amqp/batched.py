"""Publishes of one event-loop tick, framed together and written to the broker at once.

aiormq's `basic_publish` takes a lock, a timeout scope, a countdown and a write-queue
slot per message, and every message becomes its own socket write: under load, a large
share of the relay's CPU (docs/performance.md). Here each publish only registers its confirm
future, in delivery-tag order, and the first publish of a tick schedules one flush that
frames every pending message into one write.

The caller's own future is what goes into aiormq's confirmation table (and its
message-id map, for returns), so aiormq's reader fails it on Basic.Nack or Basic.Return
and a Basic.Ack resolves it directly (in the connection reader's step, see
`_aiormq.settle_acks_inline`). An aiormq-made future would cost four done-callbacks
per message (its future stores) plus one to forward the result. The guarantee is
unchanged: a caller's future resolves only on the broker's ack. What the future stores
did on close, this module does: a closing channel fails every waiter it still holds.

Every aiormq internal this needs goes through relay/amqp/_aiormq.py, which checks the
installed aiormq against the versions it was verified with; outside them the publisher
uses relay/amqp/public.py instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import aiormq
import structlog
from pamqp.commands import Basic
from pamqp.frame import marshal

from relay.amqp import _aiormq
from relay.amqp.framing import add_content_frames
from relay.callback.envelope import Outgoing
from relay.errors import ConfirmTimeout, Unavailable

log = structlog.get_logger("relay.publisher")

Confirm = asyncio.Future[Any]

_MAX_CACHED_FRAMES = 64


class TickBatcher:
    """One confirm channel's publishes, written once per event-loop tick."""

    def __init__(self, channel: aiormq.Channel, confirm_timeout: float) -> None:
        self._channel = channel
        self._timeout = confirm_timeout
        self._max_size = _aiormq.max_content_size(channel)
        self._loop = asyncio.get_running_loop()
        self._pending: list[tuple[Outgoing, Confirm]] = []
        # Basic.Publish frames by (exchange, routing key): the same few recur for ever.
        self._publish_frames: dict[tuple[str, str], bytes] = {}
        _aiormq.on_close(channel, self._on_closed)
        _aiormq.settle_acks_inline(channel)
        _aiormq.read_frames_from_the_buffer()

    @property
    def is_closed(self) -> bool:
        return bool(self._channel.is_closed)

    async def publish(self, message: Outgoing) -> Any:
        """The broker's answer to `message` (Basic.Ack); raises on nack, return, close."""
        waiter: Confirm = self._loop.create_future()
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append((message, waiter))
        try:
            return await waiter
        finally:
            # Returns are matched to publishes by message_id: forget it once settled.
            _aiormq.forget(self._channel, message.message_id)

    def submit(self, message: Outgoing) -> Confirm:
        """`publish` without waiting: the future of `message`'s answer, written this tick.

        For the archive copy (relay/amqp/archive.py); `forget` or `abandon` it once settled.
        """
        waiter: Confirm = self._loop.create_future()
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append((message, waiter))
        return waiter

    def forget(self, message: Outgoing) -> None:
        _aiormq.forget(self._channel, message.message_id)

    def abandon(self, message: Outgoing, waiter: Confirm) -> None:
        """Nobody waits for `waiter` any more: drop it so its confirm or return is ignored."""
        if waiter.done():
            if not waiter.cancelled():
                waiter.exception()  # retrieved: no "exception never retrieved" warning
        else:
            waiter.cancel()
            _aiormq.expire(self._channel, {waiter})
        self.forget(message)

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        # One timer per tick bounds every waiter of the batch, whatever happens below.
        self._loop.call_later(self._timeout, self._expire, [w for _, w in batch])
        try:
            self._write(batch)
        except Exception as exc:  # never leave a caller waiting on an unsent publish
            _fail((w for _, w in batch), Unavailable(f"publish failed: {exc.__class__.__name__}"))

    def _write(self, batch: list[tuple[Outgoing, Confirm]]) -> None:
        channel = self._channel
        if not _aiormq.can_write(channel):
            # aiormq's connection write queue holds only ten writes. A full one means the
            # socket is not draining (a stalled or blocked broker): the batch fails with
            # 503 at once, which Sinch retries, instead of queueing without bound.
            log.debug("amqp.write_buffer_full", closed=channel.is_closed, refused=len(batch))
            reason = Unavailable("confirm channel closed or its write buffer is full")
            _fail((w for _, w in batch), reason)
            return
        parts: list[bytes] = []  # every frame of the tick, for one join
        for message, waiter in batch:
            self._frame(message, waiter, parts)
        if parts:
            _aiormq.write(channel, b"".join(parts))

    def _frame(self, message: Outgoing, waiter: Confirm, parts: list[bytes]) -> None:
        """`message` framed onto `parts`, under the next delivery tag (nothing if unframeable).

        Framing comes first: a delivery tag taken for bytes never sent would shift every
        later confirm onto the wrong message.
        """
        message_id = message.message_id
        if not message_id:  # returns are matched to publishes by message_id
            waiter.set_exception(ValueError("a message_id is required"))
            return
        mark = len(parts)
        try:
            parts.append(self._publish_frame(message))
            add_content_frames(parts, message, self._channel.number, self._max_size)
        except Exception as exc:
            del parts[mark:]
            waiter.set_exception(exc)
            return
        _aiormq.register(self._channel, message_id, waiter)

    def _publish_frame(self, message: Outgoing) -> bytes:
        key = (message.exchange, message.routing_key)
        frame = self._publish_frames.get(key)
        if frame is None:
            method = Basic.Publish(exchange=key[0], routing_key=key[1], mandatory=True)
            frame = marshal(method, self._channel.number)
            if len(self._publish_frames) < _MAX_CACHED_FRAMES:  # unknown types vary freely
                self._publish_frames[key] = frame
        return frame

    def _expire(self, waiters: list[Confirm]) -> None:
        """Fail what the broker has not confirmed in time; a late confirm is then dropped."""
        late = {w for w in waiters if not w.done()}
        if not late:
            return
        _fail(late, ConfirmTimeout(f"no confirm within {self._timeout}s"))
        _aiormq.expire(self._channel, late)

    def _on_closed(self, _: asyncio.Future[Any]) -> None:
        waiting = _aiormq.waiters(self._channel)
        _fail(waiting, Unavailable("confirm channel closed before the broker confirmed"))


def _fail(waiters: Iterable[Confirm], exc: Exception) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_exception(exc)
