"""docker-compose.yml, checked without Docker: services, health checks, start order, commands.

Commands must be the Dockerfile's CMD or real `python -m consumers` subcommands, health
checks the image's own probe, and every RELAY_*/CONSUMER_* variable a real setting.
"""

from __future__ import annotations

import tomllib
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from consumers.cli import parser as consumers_parser
from consumers.config import WorkerKind
from relay.cli.reference import rows
from relay.config import HttpSettings
from tests.ship import dockerfile
from tests.ship.dockerfile import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
CONSUMERS = {kind.value: kind for kind in WorkerKind}


def test_the_stack_has_broker_ui_relay_and_both_consumers() -> None:
    """RabbitMQ with the management UI, the relay and one service per consumer kind."""
    assert {"rabbitmq", "relay", *CONSUMERS} <= SERVICES.keys()
    assert "management" in SERVICES["rabbitmq"]["image"]
    assert "15672:15672" in SERVICES["rabbitmq"]["ports"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_health_check(name: str) -> None:
    """Each service declares a CMD health check, so dependants can wait for it."""
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert len(test) > 1


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dependencies_wait_until_healthy(name: str) -> None:
    """Every depends_on names a service of the stack with condition service_healthy."""
    for dependency, rule in SERVICES[name].get("depends_on", {}).items():
        assert dependency in SERVICES
        assert rule == {"condition": "service_healthy"}


def test_relay_and_consumers_wait_for_the_broker() -> None:
    """Nothing that talks AMQP starts before RabbitMQ is healthy."""
    for name in ("relay", *CONSUMERS):
        assert "rabbitmq" in SERVICES[name]["depends_on"]


def test_relay_runs_the_dockerfile_command_on_a_console_script() -> None:
    """The relay's command is the image's CMD, and its program is a declared console script."""
    command = SERVICES["relay"]["command"]
    assert command == dockerfile.start_command(DOCKERFILE)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert command[0] in scripts


@pytest.mark.parametrize("kind", sorted(CONSUMERS))
def test_consumer_commands_are_real_subcommands(kind: str) -> None:
    """`python -m consumers KIND` parses with the consumers' own argument parser."""
    command = SERVICES[kind]["command"]
    assert command[:3] == ["python", "-m", "consumers"]
    assert consumers_parser().parse_args(command[3:]).command == kind
    assert command[3:] == [kind]


@pytest.mark.parametrize("kind", sorted(CONSUMERS))
def test_consumers_scale_independently(kind: str) -> None:
    """Each consumer service sets its own deploy.replicas."""
    replicas = SERVICES[kind]["deploy"]["replicas"]
    assert isinstance(replicas, int)
    assert replicas >= 1


@pytest.mark.parametrize("name", ["relay", *sorted(CONSUMERS)])
def test_health_checks_are_the_image_probe_on_the_service_port(name: str) -> None:
    """The image's HEALTHCHECK command, pointed at the port the service listens on."""
    service = SERVICES[name]
    assert service["healthcheck"]["test"] == ["CMD", *dockerfile.healthcheck(DOCKERFILE)]
    env = service["environment"]
    port = env.get("CONSUMER_HTTP_PORT") or env.get("RELAY_HTTP_PORT") or HttpSettings().port
    url = urlsplit(env["HEALTHCHECK_URL"])
    assert (url.hostname, url.port, url.path) == ("127.0.0.1", int(port), "/healthz")


def test_relay_variables_are_settings() -> None:
    """Every RELAY_* variable in the stack names a real relay setting."""
    known = {row.env for row in rows()}
    for service in SERVICES.values():
        for var in service.get("environment", {}):
            assert not var.startswith("RELAY_") or var in known, var


def test_consumer_variables_are_settings() -> None:
    """Every CONSUMER_* variable names a real worker setting."""
    known = {row.env for row in rows() if row.key.startswith("consumers.")}
    for kind in CONSUMERS:
        for var in SERVICES[kind]["environment"]:
            assert not var.startswith("CONSUMER_") or var in known, var


def test_consumer_store_is_a_service_of_the_stack() -> None:
    """Consumers share one store that several replicas can use: the stack's PostgreSQL."""
    for kind in CONSUMERS:
        url = urlsplit(SERVICES[kind]["environment"]["CONSUMER_STORE_URL"])
        assert url.scheme == "postgresql"
        assert url.hostname in SERVICES
