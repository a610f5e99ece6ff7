"""The archive copy: each publish also written to the archive stream, in the same write.

Used only with `archive.enabled`: `open_pipeline` then wraps the channel's pipeline in
`Archiving`; without it the publisher holds the bare pipeline, so the hot path is the
same code as before. The copy goes through the default exchange straight to the stream
(routing key = its name), with the message's own properties and body; the original goes
to its channel exchange as always, so that exchange's alternate exchange still catches
a type no queue is bound for. A publish is confirmed only when both copies are: an
archive that cannot take the message fails the request (503), and Sinch retries.
"""

from __future__ import annotations

from typing import Any, Protocol

from relay.callback.envelope import Outgoing


class Copying(Protocol):
    """A pipeline that can write a message and a copy of it together."""

    @property
    def is_closed(self) -> bool: ...

    async def publish(self, message: Outgoing) -> Any: ...

    async def publish_with_copy(self, message: Outgoing, copy: Outgoing) -> Any:
        """`message`'s confirm frame, once `copy` is confirmed too; raises if either fails."""


class Archiving:
    """A `Pipeline` that archives every message it publishes."""

    def __init__(self, inner: Copying, stream: str) -> None:
        self._inner = inner
        self._stream = stream

    @property
    def is_closed(self) -> bool:
        return self._inner.is_closed

    async def publish(self, message: Outgoing) -> Any:
        copy = Outgoing("", self._stream, *message[2:])
        return await self._inner.publish_with_copy(message, copy)
