"""The publishers the contract holds to one standard, each with the means to disturb it.

A subject is a publisher plus the broker behaviour the contract needs to provoke:
stalled confirms, a lost connection, and each answer a broker can give to a publish.
The fake provokes them with its knobs; the real `AmqpPublisher` gets them from a real
broker behind a proxy the test controls.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aio_pika.abc import AbstractChannel, AbstractQueue

from relay.amqp.publisher import AmqpPublisher
from relay.callback import envelope
from relay.callback.validation import classify
from relay.config import AmqpSettings, Secret, Settings, TopologySettings
from relay.edge.keys import Publisher
from tests.payloads import BODIES
from tests.support.fakes import BROKER_FAILURES, FakePublisher
from tests.tcp_proxy import FaultProxy

MAX_IN_FLIGHT = 2
CONFIRM_TIMEOUT = 1.5


class LifecyclePublisher(Publisher, Protocol):
    """A `Publisher` the relay starts and closes (the edge sees only the Protocol)."""

    async def start(self) -> None: ...

    async def close(self, drain_seconds: float) -> None: ...


class Subject(Protocol):
    names: TopologySettings

    @property
    def publisher(self) -> LifecyclePublisher: ...

    async def connected(self) -> None:
        """Start the publisher and wait until it is ready to publish."""

    def stall(self) -> None:
        """Hold every confirm back (publishes stay in flight) until `restore()`."""

    def restore(self) -> None: ...

    async def lose_connection(self) -> None:
        """The broker is gone: return once the publisher has noticed."""

    async def answer_with(self, failure: str) -> None:
        """From now on the broker answers every publish as `failure` (BROKER_FAILURES)."""

    async def delivered(self) -> list[bytes]:
        """The bodies the broker holds (the fake: what it recorded)."""


def message(names: TopologySettings, kind: str = "mo_text") -> envelope.Outgoing:
    """The relay's message for a Sinch `kind` callback, to `names`' exchanges."""
    body = BODIES[kind]
    received = envelope.Received("req-1", "msg-1", "/sms", None, {})
    return envelope.build(classify(body), body, received, names, ())


@dataclasses.dataclass
class FakeSubject:
    names: TopologySettings
    publisher: FakePublisher = dataclasses.field(
        default_factory=lambda: FakePublisher.unstarted(max_in_flight=MAX_IN_FLIGHT)
    )

    async def connected(self) -> None:
        await self.publisher.start()

    def stall(self) -> None:
        self.publisher.hold_confirms()

    def restore(self) -> None:
        self.publisher.release_confirms()

    async def lose_connection(self) -> None:
        self.publisher.ready = False

    async def answer_with(self, failure: str) -> None:
        self.publisher.fail = BROKER_FAILURES[failure]

    async def delivered(self) -> list[bytes]:
        return [m.body for m in self.publisher.published]


def real_settings(url: str, names: TopologySettings, **amqp: Any) -> Settings:
    """Settings for the real publisher under test; `amqp` overrides (e.g. a pipeline)."""
    base = AmqpSettings(
        url=Secret(url),
        reconnect_interval=0.1,
        connect_timeout=1.0,
        heartbeat=0,
        max_in_flight=MAX_IN_FLIGHT,
        confirm_timeout=CONFIRM_TIMEOUT,
    )
    return Settings(amqp=dataclasses.replace(base, **amqp), topology=names)


@dataclasses.dataclass
class RealSubject:
    """`AmqpPublisher` through `proxy` to a real broker; `channel` is the test's own."""

    names: TopologySettings
    publisher: AmqpPublisher
    proxy: FaultProxy
    channel: AbstractChannel
    _sink: AbstractQueue | None = None

    async def connected(self) -> None:
        await self.publisher.start()
        await until(lambda: all(self.publisher.readiness().values()))
        self._sink = await self.channel.declare_queue(exclusive=True)
        for exchange in (self.names.delivery_reports, self.names.inbound):
            await self._sink.bind(exchange, routing_key="#")

    def stall(self) -> None:
        self.proxy.stall()

    def restore(self) -> None:
        self.proxy.restore()

    async def lose_connection(self) -> None:
        self.proxy.cut()
        await until(lambda: not self.publisher.readiness()["connected"])

    async def answer_with(self, failure: str) -> None:
        await _BROKER_ANSWERS[failure](self)

    async def delivered(self) -> list[bytes]:
        assert self._sink is not None
        bodies = []
        while (got := await self._sink.get(no_ack=True, fail=False, timeout=5)) is not None:
            bodies.append(got.body)
        return bodies

    async def _reject_publishes(self) -> None:
        """A full queue that rejects new messages: the broker nacks every publish."""
        assert self._sink is not None
        full = await self.channel.declare_queue(
            exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
        )
        for exchange in (self.names.delivery_reports, self.names.inbound):
            await full.bind(exchange, routing_key="#")

    async def _stall_confirms(self) -> None:
        self.proxy.stall()

    async def _unroute(self) -> None:
        """No queue behind either exchange or the alternate one: the message comes back."""
        assert self._sink is not None
        await self._sink.delete(if_unused=False, if_empty=False)
        await self.channel.queue_delete(self.names.unrouted)


_BROKER_ANSWERS: dict[str, Callable[[RealSubject], Awaitable[None]]] = {
    "nacked": RealSubject._reject_publishes,
    "confirm_timeout": RealSubject._stall_confirms,
    "unroutable": RealSubject._unroute,
}


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)
