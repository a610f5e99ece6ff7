"""Fixtures for external services: an environment variable first, then testcontainers.

With neither a URL nor a Docker engine, a test that needs the service fails with a
message that says how to provide one. Broker tests never skip.

Three suites (see the markers in pyproject.toml): every test under tests/faults is
`faults`; every test under tests/integration or tests/bench, and every other test that
uses a service fixture, is `integration`; the rest is the unit suite, which passes with
nothing reachable: `pytest -m "not integration and not faults"`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = Path(__file__).parent
_SERVICE_FIXTURES = frozenset({"amqp_url", "postgres_url", "redis_url"})
# containers: podman builds the image and runs it against the local broker (docs/containers.md).
_INTEGRATION_DIRS = ("integration", "bench", "containers")


def _from_env_or_container(var: str, start: str) -> Iterator[str]:
    url = os.environ.get(var)
    if url:
        yield url
        return
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception as exc:
        pytest.fail(
            f"{var} is not set and no Docker engine is reachable ({exc.__class__.__name__}). "
            f"Set {var} to a running service (see README.md, 'Tests') or start Docker.",
            pytrace=False,
        )
    yield from _CONTAINERS[start]()


def _rabbitmq_container() -> Iterator[str]:
    from testcontainers.community.rabbitmq import RabbitMqContainer

    with RabbitMqContainer("rabbitmq:3.13-management") as rmq:
        host, port = rmq.get_container_host_ip(), rmq.get_exposed_port(5672)
        yield f"amqp://guest:guest@{host}:{port}/"


def _postgres_container() -> Iterator[str]:
    from testcontainers.community.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver=None) as pg:
        yield pg.get_connection_url()


_CONTAINERS = {"rabbitmq": _rabbitmq_container, "postgres": _postgres_container}


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A RabbitMQ the tests may declare things on: RELAY_TEST_AMQP_URL or a container."""
    yield from _from_env_or_container("RELAY_TEST_AMQP_URL", "rabbitmq")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database: RELAY_TEST_POSTGRES_URL or a container."""
    yield from _from_env_or_container("RELAY_TEST_POSTGRES_URL", "postgres")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis the tests may write their own keys to: RELAY_TEST_REDIS_URL (default local).

    Tests never FLUSHDB: it is shared. Each uses keys of its own (unique prefix or nonces).
    """
    url = os.environ.get("RELAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/")
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=2) as client:
            client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis at {url} (RELAY_TEST_REDIS_URL) does not answer: {exc}. "
            "Start one (see .ci/run) or point RELAY_TEST_REDIS_URL at it.",
            pytrace=False,
        )
    return url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the suite it belongs to, by its folder and the services it uses."""
    for item in items:
        suite = _suite_of(item)
        if suite is not None and suite not in {m.name for m in item.iter_markers()}:
            item.add_marker(suite)


def _suite_of(item: pytest.Item) -> str | None:
    parts = item.path.relative_to(_TESTS).parts if item.path.is_relative_to(_TESTS) else ()
    if parts[:1] == ("faults",):
        return "faults"
    if parts[:1] in {(d,) for d in _INTEGRATION_DIRS}:
        return "integration"
    if _SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "integration"
    return None
