"""Fake deliveries and channels: enough of aio-pika for the broker-free consumer tests."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

TYPE = "recipient_delivery_report_sms"


class FakeChannel:
    """Records the settle frames a real channel would send."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, int, bool]] = []
        self.is_closed = False

    async def basic_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self.frames.append(("ack", delivery_tag, multiple))


@dataclasses.dataclass
class FakeMessage:
    """Just enough of an aio-pika delivery for the processor and the AMQP transport."""

    delivery_tag: int
    body: bytes = b"{}"
    type: str | None = TYPE
    headers: dict[str, Any] = dataclasses.field(default_factory=dict)
    message_id: str | None = None
    wire: FakeChannel = dataclasses.field(default_factory=FakeChannel)

    @property
    def channel(self) -> FakeChannel:
        return self.wire

    async def ack(self, multiple: bool = False) -> None:
        await self.wire.basic_ack(self.delivery_tag, multiple)

    async def nack(self, requeue: bool = True) -> None:
        self.wire.frames.append(("nack", self.delivery_tag, requeue))


def tag(message: FakeMessage) -> int:
    return message.delivery_tag


def messages(*tags: int, wire: FakeChannel | None = None) -> list[FakeMessage]:
    shared = wire or FakeChannel()
    return [FakeMessage(t, body=body_of(t), wire=shared) for t in tags]


def body_of(n: int, **extra: Any) -> bytes:
    return orjson.dumps({"key": f"k{n}"} | extra)
