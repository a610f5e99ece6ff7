"""`relay topology declare|check` against a real broker, under unique exchange names."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest

from relay.config import TopologySettings
from relay.contract.routing import ROUTES, exchange_for

pytestmark = pytest.mark.integration


def _env(amqp_url: str, tag: str) -> dict[str, str]:
    return {
        **os.environ,
        "RELAY_AMQP_URL": amqp_url,
        "RELAY_TOPOLOGY_DELIVERY_REPORTS": f"test.topo.{tag}.dr",
        "RELAY_TOPOLOGY_INBOUND": f"test.topo.{tag}.mo",
        "RELAY_TOPOLOGY_UNROUTED": f"test.topo.{tag}.unrouted",
        "RELAY_TOPOLOGY_UNROUTED_QUEUE_TYPE": "classic",
        "RELAY_TOPOLOGY_QUARANTINE": f"test.topo.{tag}.quarantine",
    }


async def _relay(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "relay",
        "topology",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def tag(amqp_url: str) -> AsyncIterator[str]:
    """A unique name prefix; whatever the commands created under it is deleted afterwards."""
    tag = uuid.uuid4().hex[:8]
    yield tag
    async with await aio_pika.connect(amqp_url) as connection:
        for queue in (f"test.topo.{tag}.{q}" for q in ("unrouted", "example", "quarantine")):
            channel = await connection.channel()
            await channel.queue_delete(queue)
        for suffix in ("dr", "mo", "unrouted"):
            channel = await connection.channel()
            await channel.exchange_delete(f"test.topo.{tag}.{suffix}")


async def test_check_fails_before_declare_and_passes_after(amqp_url: str, tag: str) -> None:
    """check exits 1 naming what is missing; declare creates it; then check exits 0."""
    env = _env(amqp_url, tag)
    code, _, err = await _relay(env, "check")
    assert code == 1
    assert f"test.topo.{tag}.unrouted" in err
    assert "does not exist" in err
    code, out, _ = await _relay(env, "declare")
    assert code == 0
    assert "declared" in out
    code, out, _ = await _relay(env, "check")
    assert (code, out.strip()) == (0, "topology ok")


async def test_bind_example_receives_every_type(amqp_url: str, tag: str) -> None:
    """--bind-example QUEUE binds a queue that gets each callback type from its exchange."""
    env = _env(amqp_url, tag)
    code, _, err = await _relay(env, "declare", "--bind-example", f"test.topo.{tag}.example")
    assert code == 0, err
    names = TopologySettings(delivery_reports=f"test.topo.{tag}.dr", inbound=f"test.topo.{tag}.mo")
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        for type_, which in ROUTES.items():
            exchange = await channel.get_exchange(exchange_for(names, which))
            await exchange.publish(aio_pika.Message(b"{}", type=type_), routing_key=type_)
        queue = await channel.get_queue(f"test.topo.{tag}.example")
        received: list[str] = []
        for _ in ROUTES:
            message = await queue.get(timeout=5)
            assert message is not None
            received.append(str(message.type))
            await message.ack()
    assert sorted(received) == sorted(ROUTES)


async def test_unreachable_broker_exits_2_without_the_url(tag: str) -> None:
    """No broker: exit code 2 and a message that does not echo the URL's password."""
    env = _env("amqp://guest:hunter2@127.0.0.1:1/", tag)
    env["RELAY_AMQP_CONNECT_TIMEOUT"] = "2"
    code, out, err = await _relay(env, "check")
    assert code == 2
    assert "cannot reach the broker" in err
    assert "hunter2" not in out + err


async def test_with_the_archive_on_declare_creates_the_stream_and_check_needs_it(
    amqp_url: str, tag: str
) -> None:
    """RELAY_ARCHIVE_ENABLED: check fails without the stream, declare makes it, check passes."""
    env = {**_env(amqp_url, tag), "RELAY_ARCHIVE_ENABLED": "true",
           "RELAY_TOPOLOGY_ARCHIVE": f"test.topo.{tag}.archive"}  # fmt: skip
    try:
        assert (await _relay(env, "declare"))[0] == 0
        async with await aio_pika.connect(amqp_url) as connection:
            await (await connection.channel()).queue_delete(f"test.topo.{tag}.archive")
        code, _, err = await _relay(env, "check")
        assert (code, err.strip()) == (
            1, f"relay topology: check failed: queue 'test.topo.{tag}.archive' does not exist"
        )  # fmt: skip
        assert (await _relay(env, "declare"))[0] == 0
        assert (await _relay(env, "check"))[0] == 0
    finally:
        async with await aio_pika.connect(amqp_url) as connection:
            await (await connection.channel()).queue_delete(f"test.topo.{tag}.archive")


async def test_a_quarantine_queue_of_another_type_is_one_line_not_a_traceback(
    amqp_url: str, tag: str
) -> None:
    """Declared earlier as quorum, configured classic: declare says so in one line, exit 1."""
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        await channel.declare_queue(
            f"test.topo.{tag}.quarantine", durable=True, arguments={"x-queue-type": "quorum"}
        )
    code, _, err = await _relay(_env(amqp_url, tag), "declare")
    assert code == 1
    assert "Traceback" not in err
    assert err.strip() == (
        f"relay topology: check failed: quarantine queue 'test.topo.{tag}.quarantine' exists "
        "with other type or bounds: the relay uses it as it is; to change them, redrive or "
        "purge it, delete it and declare again (docs/security.md)"
    )
