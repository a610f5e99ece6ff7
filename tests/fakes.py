"""Small fakes at the publisher seam: record publishes, or fail the way a broker can."""

from __future__ import annotations

import dataclasses

from pamqp.common import FieldTable

from relay.callback.envelope import Outgoing
from relay.errors import RelayError


@dataclasses.dataclass
class FakePublisher:
    """A `Publisher` that records messages, or raises `fail` for every publish."""

    published: list[Outgoing] = dataclasses.field(default_factory=list)
    fail: RelayError | Exception | None = None
    ready: bool = True

    def readiness(self) -> dict[str, bool]:
        return {"connected": self.ready, "channel_open": self.ready, "not_blocked": True}

    async def publish(self, message: Outgoing) -> None:
        if self.fail is not None:
            raise self.fail
        self.published.append(message)


def headers_of(message: Outgoing) -> FieldTable:
    """The AMQP headers of a recorded message (never None: the relay always sets some)."""
    assert message.properties.headers is not None
    return message.properties.headers
