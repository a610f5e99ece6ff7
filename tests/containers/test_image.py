"""The image built from the repository's Dockerfile, run for real with podman.

Against this machine's RabbitMQ (the suite's `amqp_url`): the relay runs as a non-root
PID 1, becomes ready, routes a callback into a bound queue, passes its own HEALTHCHECK and
drains on SIGTERM; each consumer command of the compose file starts and reports healthy;
the image holds no compiler, test dependency or secret. docs/containers.md explains how.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import pytest
import yaml

from relay.config import TopologySettings
from relay.contract import samples
from relay.contract.routing import FLOW_PATHS, Flow
from tests.containers import checks, podman, probes
from tests.containers.conftest import REPORT
from tests.names import unique_topology
from tests.ship.dockerfile import ROOT
from tests.support.ports import free_port

pytestmark = [pytest.mark.containers, pytest.mark.timeout(180)]

SERVICES: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
CONSUMER_SERVICES = sorted(
    s for s, d in SERVICES.items() if d.get("command", [])[:3] == ["python", "-m", "consumers"]
)
SIZE_LIMIT = 350 * 1000 * 1000  # the stand-in base is 176 MB; a compiler toolchain adds 150+


def test_image_config_is_non_root_exec_form_with_a_healthcheck(relay_image: dict[str, Any]) -> None:
    """USER is not root, CMD is exec form, no ENTRYPOINT, the HEALTHCHECK is exec form."""
    assert checks.config_problems(relay_image) == []


@pytest.fixture
def rootfs(relay_image: dict[str, Any]) -> Iterator[Path]:
    """The image's filesystem, mounted read-only on the host."""
    path = Path(podman.run("image", "mount", podman.IMAGE).stdout.strip())
    yield path
    podman.run("image", "unmount", podman.IMAGE, check=False)


def test_image_holds_no_compiler_test_dependency_or_secret(
    relay_image: dict[str, Any], rootfs: Path
) -> None:
    """No cc/gcc/ld, none of the test or dev extras, no private key, credential file or
    credential in ENV; the size is reported and bounded."""
    assert checks.content_problems(rootfs, relay_image) == []
    assert "sinch-sms-relay" in checks.installed_distributions(rootfs)
    size = int(relay_image["Size"])
    REPORT["image size"] = f"{size / 1e6:.0f} MB ({podman.IMAGE}, stand-in base {podman.BASE})"
    assert size < SIZE_LIMIT


@pytest.fixture
def names() -> TopologySettings:
    return unique_topology("ct")


@pytest.fixture
async def relay(
    relay_image: dict[str, Any], amqp_url: str, names: TopologySettings
) -> AsyncIterator[probes.Started]:
    """The image's default command on a free port, its exchanges unique to the test."""
    topology = {
        "RELAY_TOPOLOGY_DELIVERY_REPORTS": names.delivery_reports,
        "RELAY_TOPOLOGY_INBOUND": names.inbound,
        "RELAY_TOPOLOGY_UNROUTED": names.unrouted,
        "RELAY_TOPOLOGY_UNROUTED_QUEUE_TYPE": "classic",
        "RELAY_TOPOLOGY_QUARANTINE": names.quarantine,
    }
    env = probes.relay_env(amqp_url, topology, free_port())
    with probes.container(podman.IMAGE, env, prefix="ct-relay") as started:
        await _wait_ready(started)
        yield started
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for exchange in (names.delivery_reports, names.inbound, names.unrouted):
            await channel.exchange_delete(exchange)
        for queue in (names.unrouted, names.quarantine):
            await channel.queue_delete(queue)


async def _wait_ready(started: probes.Started, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"{started.base}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            state = podman.inspect_container(started.name)["State"]
            logs = podman.run("logs", started.name, check=False).stderr[-2000:]
            assert state["Running"], f"the relay exited ({state['ExitCode']}): {logs}"
            assert time.monotonic() < deadline, f"/readyz not 200 within {timeout} s: {logs}"
            await asyncio.sleep(0.2)


def test_relay_is_pid_1_as_a_non_root_user(relay: probes.Started) -> None:
    """/proc/1 in the container: uid 10001, the `relay` program itself (no shell)."""
    status = podman.run("exec", relay.name, "cat", "/proc/1/status").stdout
    cmdline = subprocess.run(
        ["podman", "exec", relay.name, "cat", "/proc/1/cmdline"],
        env=podman.env(),
        capture_output=True,
        check=True,
    ).stdout
    assert checks.pid1_problems(status, cmdline, "relay") == []
    assert podman.run("exec", relay.name, "id", "-u").stdout.strip() == "10001"


async def test_a_callback_lands_in_a_bound_queue(
    relay: probes.Started, amqp_url: str, names: TopologySettings
) -> None:
    """POST a delivery report to the container: 200, and the same bytes in a bound queue."""
    body = samples.sample("delivery_report_sms", random.Random(18))
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(names.delivery_reports, routing_key="#")
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                relay.base + FLOW_PATHS[Flow.DELIVERY_REPORTS],
                data=body,
                headers={"Content-Type": "application/json"},
            ) as response,
        ):
            assert response.status == 200, await response.text()
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            message = await queue.get(no_ack=True, fail=False)
            await asyncio.sleep(0.05)
        assert message is not None, "nothing arrived in the bound queue"
        assert message.body == body
        assert message.type == "delivery_report_sms"


def test_the_image_healthcheck_passes(relay: probes.Started) -> None:
    """`podman healthcheck run` (the image's own HEALTHCHECK) passes against the relay."""
    assert podman.healthcheck(relay.name)
    health = podman.inspect_container(relay.name)["State"]["Health"]
    assert health["Status"] == "healthy"


async def test_sigterm_drains_and_exits_0_within_the_grace_period(relay: probes.Started) -> None:
    """`podman stop -t 20`: the relay itself turns not-ready (503) at once, drains and exits
    0 well before the grace period would SIGKILL it (exit 137)."""
    stopping = await asyncio.create_subprocess_exec(
        "podman",
        "stop",
        "-t",
        "20",
        relay.name,
        env=podman.env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    start = time.monotonic()
    seen: set[int] = set()
    async with aiohttp.ClientSession() as session:
        while stopping.returncode is None and time.monotonic() - start < 25:
            try:
                async with session.get(f"{relay.base}/readyz") as response:
                    seen.add(response.status)
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    await asyncio.wait_for(stopping.wait(), timeout=30)
    elapsed = time.monotonic() - start
    assert 503 in seen, f"the relay never reported draining (saw {seen}): SIGTERM did not reach it"
    state = podman.inspect_container(relay.name)["State"]
    assert state["ExitCode"] == 0
    assert elapsed < 20
    logs = podman.run("logs", relay.name).stderr + podman.run("logs", relay.name).stdout
    assert logs.index('"relay.draining"') < logs.index('"relay.stopped"')


@pytest.mark.parametrize("service", CONSUMER_SERVICES)
async def test_consumer_commands_start_and_report_healthy(
    relay_image: dict[str, Any], amqp_url: str, service: str
) -> None:
    """The compose file's command for each consumer, in this image: healthy, exits 0."""
    command = SERVICES[service]["command"]
    assert await probes.consumer_problems(podman.IMAGE, command, amqp_url) == []
