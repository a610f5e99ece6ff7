"""What every fault scenario shares: unique topology, a relay subprocess, load around a fault.

A scenario gets its own exchange and queue names (so it never meets other tests'
messages), binds one queue with `#` to both relay exchanges before the relay starts,
runs the real `relay serve` as a subprocess, drives load while its fault happens, waits
for the relay to report ready again (no restart), then drains and judges.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import aio_pika

from relay.config import TopologySettings, environment
from relay.contract import topology
from tests.faults.checker import LoadGenerator, Report, Sent, drain, judge
from tests.support.relay_process import RelayProcess, until_ready


@dataclasses.dataclass(frozen=True)
class Names:
    """One scenario's exchanges, the relay's unrouted queue and the test's `#` queue."""

    run_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def topology(self) -> TopologySettings:
        base = f"faults.{self.run_id}"
        return TopologySettings(f"{base}.dr", f"{base}.in", f"{base}.unrouted")

    @property
    def queue(self) -> str:
        return f"faults.{self.run_id}.all"

    def queues(self) -> tuple[str, str]:
        return (self.queue, self.topology.unrouted)

    def env(self) -> dict[str, str]:
        return environment("topology", self.topology)  # quorum unrouted queue, the default


async def bind_queue(
    amqp_url: str, names: Names, arguments: Mapping[str, object] | None = None
) -> None:
    """Declare the relay's topology and a quorum queue bound with `#` to both exchanges."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        await topology.declare(channel, names.topology)
        args = {"x-queue-type": "quorum", **(arguments or {})}
        queue = await channel.declare_queue(names.queue, durable=True, arguments=args)  # type: ignore[arg-type]
        for exchange in (names.topology.delivery_reports, names.topology.inbound):
            await queue.bind(exchange, routing_key="#")


async def delete_topology(amqp_url: str, names: Names) -> None:
    """Remove a scenario's queues and exchanges from a broker that outlives the test."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        for queue in names.queues():
            await channel.queue_delete(queue)
        for exchange in (names.topology.delivery_reports, names.topology.inbound):
            await channel.exchange_delete(exchange)
        await channel.exchange_delete(names.topology.unrouted)


# Fault scenarios reconnect quickly and give up on a confirm soon, so recovery is seen fast.
FAULT_SETTINGS = {
    "RELAY_LOGGING_LEVEL": "info",
    "RELAY_AMQP_RECONNECT_INTERVAL": "0.2",
    "RELAY_AMQP_CONFIRM_TIMEOUT": "2.0",
}


def relay_process(env: Mapping[str, str], workdir: Path, port: int) -> RelayProcess:
    """`relay serve` as the scenarios run it, logging to `workdir`/relay-`port`.log."""
    log = workdir / f"relay-{port}.log"
    relay = RelayProcess({**FAULT_SETTINGS, **env}, log, port=port, cwd=workdir)
    relay.settings_env = dict(env)  # a successor gets the scenario defaults again
    return relay


Fault = Callable[[], Awaitable[None]]


@dataclasses.dataclass
class Scenario:
    """Load around one fault: warm up, run the fault, wait until ready, a healthy tail."""

    name: str
    relay_url: str
    names: Names
    rate: float = 100.0
    warmup: float = 1.5
    tail: float = 2.0
    recover_within: float = 30.0
    fault_end: float = 0.0
    sign: Callable[[bytes], Mapping[str, str]] | None = None  # for a relay that wants HMAC

    async def run(self, fault: Fault) -> list[Sent]:
        load = LoadGenerator(
            self.relay_url, self.names.run_id, rate=self.rate, count=8000, sign=self.sign
        )
        running = asyncio.create_task(load.run())
        try:
            await asyncio.sleep(self.warmup)
            await fault()
            self.fault_end = time.monotonic()
            await until_ready(self.relay_url, self.recover_within)
            await self._healthy(load)
            await asyncio.sleep(self.tail)
        finally:
            load.stop()
            sent = await running
        return sent

    async def _healthy(self, load: LoadGenerator) -> None:
        """Wait (bounded) for one second's worth of 2xx in a row: recovered for good.

        The first second after the fault does not count: the relay may not have seen it yet.
        """
        await asyncio.sleep(1.0)
        load.streak = 0
        deadline = self.fault_end + self.recover_within
        while load.streak < self.rate and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def judge(self, amqp_url: str, sent: list[Sent], early: Sequence[str] = ()) -> Report:
        """Drain the scenario's queues; `early` holds ids the fault itself took off them."""
        found = await drain(amqp_url, self.names.queues())
        return judge(self.name, sent, [*early, *found], self.fault_end)
