"""Broker chores of the bench: isolated exchanges and queues, counting, clean-up.

Every run uses names of its own (`bench.<run id>.*`), so other people's tests on the
same broker neither add to nor take from the counts, and everything is deleted after.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import aiormq
from aiormq.abc import AbstractChannel

from relay.config import TopologySettings, environment


@dataclasses.dataclass(frozen=True, slots=True)
class Names:
    """Every broker object one bench run may create."""

    run_id: str

    def topology(self) -> TopologySettings:
        """Relay exchanges of this run (passed to the relay as RELAY_TOPOLOGY_*)."""
        prefix = f"bench.{self.run_id}.sms"
        return TopologySettings(
            delivery_reports=f"{prefix}.delivery_reports",
            inbound=f"{prefix}.inbound",
            unrouted=f"{prefix}.unrouted",
            archive=f"{prefix}.archive",
        )

    def queue(self, purpose: str) -> str:
        return f"bench.{self.run_id}.{purpose}"

    def relay_sink(self) -> str:
        """The queue bound to both relay exchanges, where `lost` is counted."""
        return self.queue("relay.sink")

    def relay_objects(self) -> tuple[list[str], list[str]]:
        """Queues and exchanges a relay (or reference relay) run creates: for clean-up."""
        topology = self.topology()
        queues = [self.relay_sink(), topology.unrouted, topology.archive]
        exchanges = [topology.delivery_reports, topology.inbound, topology.unrouted]
        return queues, [*exchanges, self.reference_exchange()]

    def relay_env(self, amqp_url: str, archive: bool = False) -> dict[str, str]:
        """Environment of a relay process publishing to this run's exchanges (and, with
        `archive`, to this run's archive stream too)."""
        topology = environment("topology", self.topology())
        env = {"RELAY_AMQP_URL": amqp_url, "RELAY_LOGGING_FORMAT": "json", **topology}
        return env | ({"RELAY_ARCHIVE_ENABLED": "true"} if archive else {})

    def reference_exchange(self) -> str:
        """Where the reference relay publishes (bench/reference_relay.py declares it)."""
        return self.exchange("reference")

    def exchange(self, purpose: str) -> str:
        return f"bench.{self.run_id}.x.{purpose}"


@contextlib.asynccontextmanager
async def channel(url: str) -> AsyncIterator[AbstractChannel]:
    """One short-lived connection and channel for set-up, counting and clean-up."""
    connection = await aiormq.connect(url)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


async def sink(ch: AbstractChannel, queue: str, exchanges: list[str], kind: str) -> None:
    """A durable queue of `kind` bound with '#' to every exchange in `exchanges`."""
    await ch.queue_declare(queue, durable=True, arguments={"x-queue-type": kind})
    for exchange in exchanges:
        await ch.queue_bind(queue, exchange, routing_key="#")


async def bind_relay_sink(url: str, names: Names) -> str:
    """A quorum queue bound with '#' to both relay exchanges (they must exist)."""
    topology = names.topology()
    async with channel(url) as ch:
        exchanges = [topology.delivery_reports, topology.inbound]
        await sink(ch, names.relay_sink(), exchanges, "quorum")
    return names.relay_sink()


async def bind_reference_sink(url: str, names: Names) -> str:
    """The relay's sink, bound to the one exchange the reference relay publishes to."""
    async with channel(url) as ch:
        await sink(ch, names.relay_sink(), [names.reference_exchange()], "quorum")
    return names.relay_sink()


async def topic_exchange(ch: AbstractChannel, name: str) -> None:
    await ch.exchange_declare(name, exchange_type="topic", durable=True)


async def count(ch: AbstractChannel, queue: str) -> int:
    """Messages ready in `queue` (nothing consumes bench queues, so that is all of them)."""
    ok = await ch.queue_declare(queue, passive=True)
    return int(ok.message_count or 0)


async def settled_count(ch: AbstractChannel, queue: str, patience: float = 10.0) -> int:
    """The count once it stopped moving (confirmed messages are already enqueued)."""
    last, deadline = -1, asyncio.get_running_loop().time() + patience
    while True:
        now = await count(ch, queue)
        if now == last or asyncio.get_running_loop().time() > deadline:
            return now
        last = now
        await asyncio.sleep(0.3)


async def purge(ch: AbstractChannel, queue: str) -> None:
    await ch.queue_purge(queue)


async def delete(url: str, queues: list[str], exchanges: list[str]) -> None:
    """Delete whatever exists of `queues` and `exchanges`; absent ones are fine."""
    async with channel(url) as ch:
        for queue in queues:
            await ch.queue_delete(queue)
        for exchange in exchanges:
            await ch.exchange_delete(exchange)
