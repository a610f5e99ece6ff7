"""The checker is only worth something if it fails a relay that acks before the confirm.

A deliberately broken relay (the real app, with a publisher that answers at once and
publishes in the background, swallowing failures) goes through the same connection cut
as scenario 1; the checker must report the callbacks it lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from relay.amqp.publisher import AmqpPublisher
from relay.callback.envelope import Outgoing
from relay.config import AmqpSettings, Secret, Settings
from relay.edge.app import create_app
from tests.faults.checker import Report
from tests.faults.harness import Names, Scenario, bind_queue
from tests.support.ports import free_port
from tests.tcp_proxy import FaultProxy

pytestmark = [pytest.mark.faults, pytest.mark.timeout(60)]


class AcksBeforeConfirm:
    """The bug under test: 2xx as soon as the publish is *started*, errors swallowed."""

    def __init__(self, inner: AmqpPublisher) -> None:
        self._inner = inner
        self._background: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return self._inner.in_flight

    def readiness(self) -> dict[str, bool]:
        return self._inner.readiness()

    async def publish(self, message: Outgoing) -> None:
        task = asyncio.create_task(self._inner.publish(message))
        self._background.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved and dropped: exactly the bug


@contextlib.asynccontextmanager
async def broken_relay(amqp_url: str, names: Names) -> AsyncIterator[str]:
    settings = Settings(
        amqp=AmqpSettings(url=Secret(amqp_url), reconnect_interval=0.2), topology=names.topology
    )
    publisher = AmqpPublisher(settings.amqp, settings.topology)
    await publisher.start()
    runner = web.AppRunner(create_app(settings, AcksBeforeConfirm(publisher)))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await publisher.close(2.0)


async def test_checker_reports_loss_from_a_relay_that_acks_before_the_confirm(
    amqp_url: str, proxy: FaultProxy, shared_names: Names, record: Callable[[Report], Report]
) -> None:
    """Through a 2 s connection cut, the broken relay answers 2xx and the checker says lost."""
    await bind_queue(amqp_url, shared_names)
    async with broken_relay(proxy.url_for(amqp_url), shared_names) as url:
        scenario = Scenario("broken relay (acks before confirm)", url, shared_names)

        async def fault() -> None:
            proxy.cut()
            await asyncio.sleep(2)
            proxy.restore()

        report = record(await scenario.judge(amqp_url, await scenario.run(fault)))
    assert report.refusals == 0  # it never admitted a problem ...
    assert len(report.lost) >= 50  # ... and lost about 2 s of traffic
    with pytest.raises(AssertionError, match="lost"):
        report.check()
    dataclasses.replace(report, lost=()).check()  # the loss, nothing else, failed it
