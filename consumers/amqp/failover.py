"""Broker connections over the failover list: the next address when one is down.

`connect_robust` reconnects to the URL it was given; `FailoverConnection` moves to the next
address of the list each time its connection drops, so a worker follows the cluster the way
the relay's publisher cycles `amqp.addresses()`. The first connection tries each address
in turn and fails only when none answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from aio_pika.robust_connection import RobustConnection
from yarl import URL

from relay.config import Secret


class FailoverConnection(RobustConnection):
    """A robust connection that reconnects to the next address after a drop."""

    def __init__(self, addresses: Sequence[Secret], first: int, **kwargs: Any) -> None:
        super().__init__(URL(addresses[first].reveal()), **kwargs)
        self._addresses = tuple(URL(a.reveal()) for a in addresses)
        self._index = first

    async def _on_connection_close(self, closing: asyncio.Future[Any]) -> None:
        self._index = (self._index + 1) % len(self._addresses)
        self.url = self._addresses[self._index]
        await super()._on_connection_close(closing)


async def connect_robust(
    addresses: Sequence[Secret], within: float | None = None, **kwargs: Any
) -> FailoverConnection:
    """A failover connection to the first address that answers."""
    failure: Exception | None = None
    for index in range(len(addresses)):
        connection = FailoverConnection(addresses, index, **kwargs)
        try:
            await connection.connect(within)
        except CONNECTION_EXCEPTIONS as exc:
            failure = exc
            with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                await connection.close()
            continue
        return connection
    raise failure or ValueError("no broker address")


async def connect(addresses: Sequence[Secret], within: float | None = None) -> AbstractConnection:
    """A plain connection (for one-off commands) to the first address that answers."""
    failure: Exception | None = None
    for address in addresses:
        try:
            return await aio_pika.connect(address.reveal(), timeout=within)
        except CONNECTION_EXCEPTIONS as exc:
            failure = exc
    raise failure or ValueError("no broker address")
