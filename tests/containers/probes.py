"""Containers of the image under test, started against this machine's services.

`--network host`: the relay and consumer containers reach the test RabbitMQ at the URL the
rest of the suite uses, and listen on a free port of 127.0.0.1. Names are unique per test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator, Sequence

import aio_pika

from consumers.amqp import topology as consumer_topology
from consumers.config import WorkerKind, load_settings
from tests.containers import podman
from tests.support.ports import free_port


@dataclasses.dataclass(frozen=True)
class Started:
    name: str
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def container(
    image: str, env: dict[str, str], command: Sequence[str] = (), prefix: str = "ct"
) -> Iterator[Started]:
    """`podman run -d --network host` with `env`; removed afterwards whatever happened."""
    name = podman.unique(prefix)
    args = [f"--env={key}={value}" for key, value in env.items()]
    podman.run("run", "-d", "--name", name, "--network", "host", *args, image, *command)
    try:
        yield Started(name, int(env.get("RELAY_HTTP_PORT") or env.get("CONSUMER_HTTP_PORT") or "0"))
    finally:
        podman.remove(name)


def relay_env(amqp_url: str, topology: dict[str, str], port: int) -> dict[str, str]:
    return {
        "RELAY_AMQP_URL": amqp_url,
        "RELAY_HTTP_HOST": "127.0.0.1",
        "RELAY_HTTP_PORT": str(port),
        "RELAY_SHUTDOWN_GRACE": "1",
        "HEALTHCHECK_URL": f"http://127.0.0.1:{port}/healthz",
        **topology,
    }


def consumer_env(amqp_url: str, port: int) -> dict[str, str]:
    tag = podman.unique("ct").replace("-", ".")
    return {
        "CONSUMER_AMQP_URL": amqp_url,
        "CONSUMER_QUEUE": f"{tag}.queue",
        "CONSUMER_QUEUE_TYPE": "classic",
        "CONSUMER_EXCHANGE": f"{tag}.exchange",
        "CONSUMER_UNROUTED_EXCHANGE": f"{tag}.unrouted",
        "CONSUMER_RETRY_DELAYS": "1",
        # No CONSUMER_STORE_URL: the image's default store must work for its own user.
        "CONSUMER_HTTP_HOST": "127.0.0.1",
        "CONSUMER_HTTP_PORT": str(port),
        "HEALTHCHECK_URL": f"http://127.0.0.1:{port}/healthz",
    }


def stop(name: str, grace: int = 20) -> tuple[int, float]:
    """`podman stop -t grace` (SIGTERM, SIGKILL after grace): (exit code, seconds taken)."""
    start = time.monotonic()
    podman.run("stop", "-t", str(grace), name, timeout=grace + 30)
    elapsed = time.monotonic() - start
    return int(podman.inspect_container(name)["State"]["ExitCode"]), elapsed


async def consumer_problems(image: str, command: Sequence[str], amqp_url: str) -> list[str]:
    """Run a consumer command of `image`: healthy within 30 s, exits 0 on SIGTERM."""
    env = consumer_env(amqp_url, free_port())
    problems: list[str] = []
    try:
        with container(image, env, command, prefix="ct-consumer") as started:
            try:
                podman.wait_healthy(started.name, timeout=30)
            except AssertionError as exc:
                return [f"{' '.join(command)} did not become healthy: {exc}"]
            code, elapsed = stop(started.name)
            if code != 0 or elapsed >= 20:
                problems.append(f"{' '.join(command)}: SIGTERM gave exit {code} in {elapsed:.1f} s")
    finally:
        await _delete_consumer_topology(amqp_url, command[-1], env)
    return problems


async def _delete_consumer_topology(amqp_url: str, kind: str, env: dict[str, str]) -> None:
    if kind not in {k.value for k in WorkerKind}:
        return
    settings = load_settings(WorkerKind(kind), env)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await consumer_topology.delete(channel, settings)
        for exchange in (env["CONSUMER_EXCHANGE"], env["CONSUMER_UNROUTED_EXCHANGE"]):
            await channel.exchange_delete(exchange)
