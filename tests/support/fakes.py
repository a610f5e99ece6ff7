"""The one fake `Publisher`: records publishes, or fails the way the real one does.

It mirrors `relay.amqp.publisher.AmqpPublisher` where the edge can see it: the same
readiness keys, the same `in_flight` count, and the same exception for each condition
(closed: ShuttingDown; not connected: Unavailable; blocked: BrokerBlocked; past
`max_in_flight`: Overloaded; `fail`: whatever the broker's answer would raise).
tests/contract/test_publisher_contract.py runs one suite over this fake and the real
publisher, so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import dataclasses

from pamqp.common import FieldTable

from relay.callback.envelope import Outgoing
from relay.errors import (
    BrokerBlocked,
    ConfirmTimeout,
    Nacked,
    Overloaded,
    RelayError,
    ShuttingDown,
    Unavailable,
)

# What a broker can answer to a publish in flight, as the real publisher raises it: set
# one as `FakePublisher.fail`. The contract suite makes a real broker answer each way.
BROKER_FAILURES: dict[str, RelayError] = {
    "nacked": Nacked("broker nacked the publish"),
    "confirm_timeout": ConfirmTimeout("no confirm in time"),
    "unroutable": Unavailable("message returned unroutable: no queue holds it"),
}


@dataclasses.dataclass
class FakePublisher:
    """A `Publisher` that records messages; each knob makes it fail like a broker can.

    `fail` is raised by every publish once it is in flight (a nack, a confirm timeout, a
    lost channel: any exception, so the edge's handling of a bug can be tested too).
    """

    published: list[Outgoing] = dataclasses.field(default_factory=list)
    fail: BaseException | None = None
    ready: bool = True  # connected, confirm channel open
    blocked: bool = False  # the broker raised a resource alarm
    max_in_flight: int = 4096  # AmqpSettings' default
    calls: int = 0
    _closing: bool = False
    _in_flight: int = 0
    _confirms: asyncio.Event | None = None  # set: confirms flow; None: never held

    @classmethod
    def unstarted(cls, max_in_flight: int = 4096) -> FakePublisher:
        """As the real publisher is before `start()`: not connected yet."""
        return cls(ready=False, max_in_flight=max_in_flight)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def readiness(self) -> dict[str, bool]:
        return {
            "connected": self.ready,
            "channel_open": self.ready,
            "not_blocked": not self.blocked,
            "accepting": not self._closing,
        }

    async def start(self) -> None:
        self.ready = True

    async def close(self, drain_seconds: float) -> None:
        self._closing = True
        self.ready = False

    def hold_confirms(self) -> None:
        """Publishes stay in flight (awaiting their confirm) until `release_confirms()`."""
        self._confirms = asyncio.Event()

    def release_confirms(self) -> None:
        if self._confirms is not None:
            self._confirms.set()

    async def publish(self, message: Outgoing) -> None:
        self.calls += 1
        self._admit()
        self._in_flight += 1
        try:
            if self._confirms is not None:
                await self._confirms.wait()
            if self.fail is not None:
                raise self.fail
        finally:
            self._in_flight -= 1
        self.published.append(message)

    def _admit(self) -> None:
        """The real publisher's checks, in its order, before a publish is in flight."""
        if self._closing:
            raise ShuttingDown("relay is shutting down")
        if not self.ready:
            raise Unavailable("no open channel to the broker")
        if self.blocked:
            raise BrokerBlocked("broker blocked publishers (resource alarm)")
        if self._in_flight >= self.max_in_flight:
            raise Overloaded(f"{self._in_flight} publishes in flight")


def headers_of(message: Outgoing) -> FieldTable:
    """The AMQP headers of a recorded message (never None: the relay always sets some)."""
    assert message.properties.headers is not None
    return message.properties.headers
