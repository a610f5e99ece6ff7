"""Workers follow a failover list of brokers: the next address when one is down."""

from __future__ import annotations

import socket

from yarl import URL

from consumers.amqp import failover
from relay.config import Secret


def _dead_address(amqp_url: str) -> Secret:
    """`amqp_url` pointed at a local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return Secret(str(URL(amqp_url).with_host("127.0.0.1").with_port(port)))


async def test_the_worker_connects_to_the_next_address_when_the_first_is_down(
    amqp_url: str,
) -> None:
    """A dead first node is skipped: the connection opens on the second."""
    connection = await failover.connect_robust([_dead_address(amqp_url), Secret(amqp_url)], 5)
    try:
        assert not connection.is_closed
        assert str(connection.url) == amqp_url
    finally:
        await connection.close()


async def test_a_dropped_connection_moves_to_the_next_address(amqp_url: str) -> None:
    """After a drop the robust connection reconnects to the following node of the list."""
    second = str(URL(amqp_url).with_host("localhost"))
    connection = await failover.connect_robust([Secret(amqp_url), Secret(second)], 5)
    try:
        await connection.reconnect()
        assert (str(connection.url), connection.is_closed) == (second, False)
    finally:
        await connection.close()


async def test_one_off_commands_take_the_first_address_that_answers(amqp_url: str) -> None:
    """`dlq` and `health` connect plainly, skipping a dead node."""
    connection = await failover.connect([_dead_address(amqp_url), Secret(amqp_url)], 5)
    async with connection:
        assert not connection.is_closed
