"""Fault-suite fixtures: brokers the suite starts itself, relay processes, the report table.

Scenarios that disturb a broker use `rabbit_node` (one standalone node) or `cluster`
(three nodes); both are killed and their folders removed even when a test fails.
Scenarios that only cut the network go through a proxy to the shared `amqp_url`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.faults import rabbit
from tests.faults.checker import TABLE_HEADER, Report
from tests.faults.harness import Names, bind_queue, delete_topology, relay_process
from tests.support.ports import free_port
from tests.support.relay_process import RelayProcess
from tests.tcp_proxy import FaultProxy

REPORTS = pytest.StashKey[list[Report]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[REPORTS] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = terminalreporter.config.stash.get(REPORTS, [])
    if not reports:
        return
    table = "\n".join([TABLE_HEADER, *(r.row() for r in reports)])
    terminalreporter.write_sep("=", "fault scenarios")
    terminalreporter.write_line(table)
    if path := os.environ.get("RELAY_FAULTS_TABLE"):
        Path(path).write_text(table + "\n", encoding="utf-8")


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[[Report], Report]:
    """Keep a scenario's report for the summary table, then return it."""

    def keep(report: Report) -> Report:
        params = getattr(request.node, "callspec", None)
        pipeline = params.params.get("relays") if params else None
        if pipeline:
            report = dataclasses.replace(report, scenario=f"{report.scenario} [{pipeline}]")
        request.config.stash[REPORTS].append(report)
        return report

    return keep


@pytest.fixture(scope="session")
def rabbit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rabbit.make_home(tmp_path_factory.mktemp("rabbit"))


@pytest.fixture(scope="session")
def rabbit_node(rabbit_home: Path) -> Iterator[rabbit.RabbitNode]:
    """One standalone node the suite may stop, restart and alarm."""
    node = rabbit.RabbitNode("relayf0", rabbit_home, rabbit_home.parent / "relayf0")
    try:
        rabbit.start_nodes([node])
        yield node
    finally:
        rabbit.destroy([node])


@pytest.fixture
def names() -> Names:
    return Names()


@pytest.fixture
async def shared_names(amqp_url: str) -> AsyncIterator[Names]:
    """Unique names on the shared broker, deleted afterwards."""
    names = Names()
    yield names
    await delete_topology(amqp_url, names)


@pytest.fixture
async def proxy(amqp_url: str) -> AsyncIterator[FaultProxy]:
    """A proxy to the shared broker (which is never stopped or alarmed)."""
    from yarl import URL

    proxy = FaultProxy(URL(amqp_url).port or 5672, URL(amqp_url).host or "127.0.0.1")
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture(params=["batched", "public"])
def relays(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., RelayProcess]]:
    """Make relay subprocesses (each killed at teardown if still running).

    Every scenario runs under both publish pipelines (`amqp.pipeline`): each must lose
    nothing.
    """
    made: list[RelayProcess] = []
    pipeline = {"RELAY_AMQP_PIPELINE": request.param}

    def make(env: dict[str, str], port: int | None = None) -> RelayProcess:
        made.append(relay_process(pipeline | env, tmp_path, port or free_port()))
        return made[-1]

    yield make
    for relay in made:
        relay.kill()


StartRelay = Callable[..., Awaitable[RelayProcess]]


@pytest.fixture
def relay_on(relays: Callable[..., RelayProcess]) -> StartRelay:
    """Bind the scenario's `#` queue on `broker`, then start a relay that reaches it.

    `via` is the address the relay uses (a proxy in front of `broker`, or a node list);
    `env` adds settings; `queue_args` are extra arguments of the bound queue.
    """

    async def start(
        broker: str,
        names: Names,
        *,
        via: str | None = None,
        env: Mapping[str, str] | None = None,
        queue_args: Mapping[str, object] | None = None,
    ) -> RelayProcess:
        await bind_queue(broker, names, queue_args)
        relay = relays({"RELAY_AMQP_URL": via or broker, **names.env(), **(env or {})})
        await relay.start()
        return relay

    return start


@pytest.fixture
def cluster(rabbit_home: Path) -> Iterator[list[rabbit.RabbitNode]]:
    """Three nodes joined into one cluster (relayf1 is the seed), fresh for each test.

    The scenario kills a node, so a second pipeline's run needs a whole cluster again.
    """
    nodes = [
        rabbit.RabbitNode(f"relayf{i}", rabbit_home, rabbit_home.parent / f"relayf{i}")
        for i in (1, 2, 3)
    ]
    try:
        rabbit.start_nodes(nodes)
        rabbit.join_cluster(nodes[0], nodes[1:])
        yield nodes
    finally:
        rabbit.destroy(nodes)
