"""A broker that refuses us is named in its own words, by the relay and the consumers alike."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest
from structlog.testing import capture_logs

from relay.amqp.publisher import AmqpPublisher
from relay.config import AmqpSettings, Secret
from relay.contract.broker import connect_error
from tests.names import unique_topology
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


def with_credentials(amqp_url: str, password: str, vhost: str = "") -> str:
    """`amqp_url` with its password (and, given one, its vhost) replaced."""
    parts = urlsplit(amqp_url)
    netloc = f"{parts.username or 'guest'}:{password}@{parts.hostname}:{parts.port or 5672}"
    return urlunsplit((parts.scheme, netloc, f"/{vhost}", "", ""))


async def refusal(url: str) -> str:
    try:
        connection = await aio_pika.connect(url, timeout=5)
    except Exception as exc:
        return connect_error(exc)
    await connection.close()
    raise AssertionError(f"the broker accepted {url}")


async def test_a_wrong_password_reads_access_refused(amqp_url: str) -> None:
    """The broker's 403 text, not `ProbableAuthenticationError`; the password never shows."""
    reason = await refusal(with_credentials(amqp_url, "wrong-secret"))
    assert reason.startswith("ACCESS_REFUSED - Login was refused"), reason
    assert "wrong-secret" not in reason


async def test_an_unknown_vhost_reads_vhost_not_found(amqp_url: str) -> None:
    """The broker's Close text for Connection.Open, not aiormq's `InvalidFrameError`."""
    password = urlsplit(amqp_url).password or "guest"
    reason = await refusal(with_credentials(amqp_url, password, "nosuchvhost"))
    assert reason == "NOT_ALLOWED - vhost nosuchvhost not found"


async def test_a_closed_port_reads_as_the_socket_error() -> None:
    """Nobody listening: the socket's own text, on one line."""
    reason = await refusal(f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    assert "refused" in reason.lower() or "connect call failed" in reason.lower(), reason
    assert "\n" not in reason
    assert "guest" not in reason


async def test_the_relay_logs_the_brokers_words_on_each_attempt(amqp_url: str) -> None:
    """`amqp.connect_failed` carries ACCESS_REFUSED on every attempt; it keeps retrying."""
    url = with_credentials(amqp_url, "wrong-secret")
    amqp = AmqpSettings(url=Secret(url), reconnect_interval=0.05, max_reconnect_interval=0.05)
    publisher = AmqpPublisher(amqp, unique_topology())
    with capture_logs() as logs:
        await publisher.start()
        while sum(e["event"] == "amqp.connect_failed" for e in logs) < 2:
            await asyncio.sleep(0.02)
        await publisher.close(0)
    failed = [e for e in logs if e["event"] == "amqp.connect_failed"]
    assert all(e["error"].startswith("ACCESS_REFUSED") for e in failed), failed
    assert not publisher.readiness()["connected"]
