"""One `subject` fixture, parametrized over every publisher the contract covers.

The real publisher's params carry the `integration` marker (they need a broker); the
fake's run in the unit suite. A new pipeline of the real publisher is one more entry
in REAL_PUBLISHERS: the settings overrides that select it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import pytest

from relay.amqp.publisher import AmqpPublisher
from tests.contract.subjects import FakeSubject, RealSubject, Subject, real_settings
from tests.names import unique_topology
from tests.tcp_proxy import FaultProxy

REAL_PUBLISHERS = [
    pytest.param({"pipeline": "batched"}, id="real-batched", marks=pytest.mark.integration),
    pytest.param({"pipeline": "public"}, id="real-public", marks=pytest.mark.integration),
]


@pytest.fixture(params=[pytest.param(None, id="fake"), *REAL_PUBLISHERS])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    """A publisher (not started) and the means to disturb it; closed afterwards."""
    names = unique_topology("contract")
    if request.param is None:
        yield FakeSubject(names)
        return
    amqp_url: str = request.getfixturevalue("amqp_url")
    async for real in _real(amqp_url, names, request.param):
        yield real


async def _real(amqp_url: str, names: Any, overrides: dict[str, Any]) -> AsyncIterator[Subject]:
    parts = urlsplit(amqp_url)
    proxy = FaultProxy(parts.port or 5672, parts.hostname or "127.0.0.1")
    await proxy.start()
    settings = real_settings(proxy.url_for(amqp_url), names, **overrides)
    publisher = AmqpPublisher(settings.amqp, settings.topology)
    connection = await aio_pika.connect(amqp_url)
    try:
        yield RealSubject(names, publisher, proxy, await connection.channel())
    finally:
        proxy.restore()
        await publisher.close(0.5)
        await proxy.close()
        await _delete_topology(connection, names)
        await connection.close()


async def _delete_topology(connection: aio_pika.abc.AbstractConnection, names: Any) -> None:
    cleanup = await connection.channel()
    for exchange in (names.delivery_reports, names.inbound, names.unrouted):
        await cleanup.exchange_delete(exchange)
    await cleanup.queue_delete(names.unrouted)
