"""The quarantine's own broker path: declared bounds, a queue declared otherwise."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import structlog

from relay.amqp.quarantine import QuarantineSink
from relay.contract import topology
from relay.recovery.broker import confirmed_channel
from tests.recovery.conftest import Held


async def _connected(sink: QuarantineSink) -> bool:
    deadline = time.monotonic() + 10
    while not sink.connected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return sink.connected


async def test_a_queue_declared_with_other_bounds_is_used_as_it_is(held: Held) -> None:
    """Bounds changed in the settings: one error line, and publishes still land."""
    s = held.settings
    other = dataclasses.replace(s.quarantine, max_messages=s.quarantine.max_messages + 1)
    sink = QuarantineSink(s.amqp, other, s.topology)
    with structlog.testing.capture_logs() as logs:
        await sink.start()
        assert await _connected(sink)
        await sink.publish(b"{}", {"x-quarantine-reason": "bad_signature"})
    await sink.close()
    assert [e["event"] for e in logs if e["log_level"] == "error"] == [
        "quarantine.declared_otherwise"
    ]
    assert await held.depth() == 1


async def test_with_declare_off_a_missing_queue_is_never_created(held: Held) -> None:
    """topology.declare=false: the sink only checks; it stays unconnected, saying why."""
    s = held.settings
    async with confirmed_channel(s.amqp) as channel:
        await channel.queue_delete(s.topology.quarantine)
    sink = QuarantineSink(s.amqp, s.quarantine, dataclasses.replace(s.topology, declare=False))
    with structlog.testing.capture_logs() as logs:
        await sink.start()
        await asyncio.sleep(0.5)
    connected = sink.connected
    await sink.close()
    async with confirmed_channel(s.amqp) as channel:
        await topology.declare_quarantine(channel, s.quarantine, s.topology)  # for the teardown
    assert not connected
    assert any("NOT_FOUND" in str(e.get("error")) for e in logs)
