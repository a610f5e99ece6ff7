"""The archive copy: each publish also written to the archive stream, on a channel of its own.

Used only with `archive.enabled`: `open_pipeline` then wraps the channel's pipeline in
`Archiving`; without it the publisher holds the bare pipeline, so the hot path is the
same code as before. The copy goes through the default exchange straight to the stream
(routing key = its name), with the message's own properties and body, in the same tick;
the original goes to its channel exchange as always, so that exchange's alternate
exchange still catches a type no queue is bound for (docs/recovery.md, "How the archive
is wired"). A publish is confirmed only when both are: an archive that cannot take the
message fails the request (503), and Sinch retries.

The copies travel on a confirm channel of their own. On the same channel their confirms
(from the stream) and the originals' (from quorum queues) interleave, and RabbitMQ can
then no longer cover a run of delivery tags with one multiple-ack: the relay read about
twice as many ack frames (docs/performance.md, "The archive").
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from relay.callback.envelope import Outgoing


class Submitting(Protocol):
    """A pipeline that can start a publish without waiting for it."""

    @property
    def is_closed(self) -> bool: ...

    async def publish(self, message: Outgoing) -> Any: ...

    def submit(self, message: Outgoing) -> asyncio.Future[Any]: ...

    def forget(self, message: Outgoing) -> None: ...

    def abandon(self, message: Outgoing, waiter: asyncio.Future[Any]) -> None: ...


class Archiving:
    """A `Pipeline` that archives every message it publishes, through `archive`."""

    def __init__(self, inner: Submitting, archive: Submitting, stream: str) -> None:
        self._inner = inner
        self._archive = archive
        self._stream = stream

    @property
    def is_closed(self) -> bool:
        return self._inner.is_closed or self._archive.is_closed

    async def publish(self, message: Outgoing) -> Any:
        """`message`'s confirm frame, once its archive copy is confirmed too."""
        copy = Outgoing("", self._stream, *message[2:])
        archive = self._archive
        kept = archive.submit(copy)
        try:
            confirm = await self._inner.publish(message)
        except BaseException:
            archive.abandon(copy, kept)
            raise
        try:
            await kept
        finally:
            archive.forget(copy)
        return confirm
