"""The seam between the publisher and how publishes reach the broker: two pipelines.

`batched` (relay/amqp/batched.py) frames a tick's publishes into one write through
aiormq internals; `public` (relay/amqp/public.py) uses only aiormq's public API. The
setting `amqp.pipeline` picks one; `batched` needs an aiormq version its adapter
(relay/amqp/_aiormq.py) was verified against, and falls back to `public` otherwise.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import aiormq
import structlog

from relay.amqp import _aiormq
from relay.amqp.archive import Archiving
from relay.amqp.batched import TickBatcher
from relay.amqp.public import PublicPipeline
from relay.callback.envelope import Outgoing

log = structlog.get_logger("relay.publisher")

Kind = Literal["batched", "public"]


class Pipeline(Protocol):
    """Publishes on one confirm channel."""

    @property
    def is_closed(self) -> bool: ...

    async def publish(self, message: Outgoing) -> Any:
        """The broker's confirm frame; raises aiormq's errors, TimeoutError or a RelayError."""


def choose(wanted: Kind) -> Kind:
    """`wanted`, unless it is `batched` and the installed aiormq is unverified (one warning)."""
    if wanted == "batched" and not _aiormq.SUPPORTED:
        log.warning(
            "amqp.pipeline_fallback",
            wanted=wanted,
            using="public",
            aiormq=_aiormq.INSTALLED,
            verified=sorted(_aiormq.VERIFIED),
        )
        return "public"
    return wanted


def open_pipeline(kind: Kind, channel: aiormq.abc.AbstractChannel, timeout: float) -> Pipeline:
    """A pipeline of `kind` over aio-pika's underlying aiormq confirm channel."""
    return _open(kind, channel, timeout)


def open_archiving(
    kind: Kind,
    channel: aiormq.abc.AbstractChannel,
    copies: aiormq.abc.AbstractChannel,
    timeout: float,
    stream: str,
) -> Pipeline:
    """A pipeline that also writes each message to `stream`, over the channel `copies`."""
    return Archiving(_open(kind, channel, timeout), _open(kind, copies, timeout), stream)


def _open(
    kind: Kind, channel: aiormq.abc.AbstractChannel, timeout: float
) -> PublicPipeline | TickBatcher:
    concrete = _aiormq.concrete(channel)
    if kind == "public":
        return PublicPipeline(concrete, timeout)
    return TickBatcher(concrete, timeout)
