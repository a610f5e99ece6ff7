"""Each consumer's Deployment and KEDA scaler agree with the worker's own settings."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from consumers import server
from consumers.cli import parser as consumers_parser
from consumers.config import WorkerKind, WorkerSettings, env_var, load_settings
from consumers.metrics import Metrics
from tests.deploy.manifests import (
    Doc,
    container,
    environment,
    named,
    of_kind,
    pod_spec,
    port_numbers,
    secret_value,
)
from tests.deploy.tools import image_user

KINDS = sorted(WorkerKind, key=str)


def _deployment(docs: list[Doc], kind: WorkerKind) -> Doc:
    return named(docs, "Deployment", f"sinch-consumer-{kind.value}")


def _settings(docs: list[Doc], kind: WorkerKind) -> WorkerSettings:
    """What the worker would load in its pod from the pod's variables."""
    return load_settings(kind, environment(docs, _deployment(docs, kind)))


def _scaler(docs: list[Doc], kind: WorkerKind) -> Doc:
    return named(docs, "ScaledObject", f"sinch-consumer-{kind.value}")


def _routes() -> set[str]:
    app: web.Application = server.create_app(lambda: True, Metrics("q"))
    return {r.canonical for r in app.router.resources()}


@pytest.mark.parametrize("kind", KINDS)
def test_runs_its_worker_subcommand(overlay: list[Doc], kind: WorkerKind) -> None:
    """`python -m consumers KIND`, parsed by the consumers' own argument parser."""
    args = container(_deployment(overlay, kind))["args"]
    assert args[:3] == ["python", "-m", "consumers"]
    assert consumers_parser().parse_args(args[3:]).command == kind.value


@pytest.mark.parametrize("kind", KINDS)
def test_variables_are_worker_settings(overlay: list[Doc], kind: WorkerKind) -> None:
    """Every CONSUMER_* variable names a real worker setting, and they all load."""
    known = {env_var(f.name) for f in dataclasses.fields(WorkerSettings)}
    env = environment(overlay, _deployment(overlay, kind))
    assert {var for var in env if var.startswith("CONSUMER_")} - known == set()
    assert _settings(overlay, kind).kind is kind


@pytest.mark.parametrize("kind", KINDS)
def test_health_server_listens_on_the_container_port(overlay: list[Doc], kind: WorkerKind) -> None:
    """The worker serves /healthz and /metrics on the pod IP, on the port named http."""
    settings = _settings(overlay, kind)
    deployment = _deployment(overlay, kind)
    assert settings.http_host == "0.0.0.0"
    assert port_numbers(deployment)["http"] == settings.http_port
    notes = deployment["spec"]["template"]["metadata"]["annotations"]
    assert int(notes["prometheus.io/port"]) == settings.http_port
    assert notes["prometheus.io/path"] in _routes()


@pytest.mark.parametrize("kind", KINDS)
def test_probes_are_the_worker_health_endpoint(overlay: list[Doc], kind: WorkerKind) -> None:
    """Readiness and liveness both ask the worker's /healthz on its port."""
    c = container(_deployment(overlay, kind))
    for probe in (c["readinessProbe"], c["livenessProbe"]):
        assert probe["httpGet"]["port"] == "http"
        assert probe["httpGet"]["path"] == "/healthz"
        assert probe["httpGet"]["path"] in _routes()


@pytest.mark.parametrize("kind", KINDS)
def test_store_is_shared_postgresql(overlay: list[Doc], kind: WorkerKind) -> None:
    """Replicas share one PostgreSQL store: SQLite cannot live on a read-only root."""
    url = urlsplit(_settings(overlay, kind).store_url.reveal())
    assert url.scheme == "postgresql"


@pytest.mark.parametrize("kind", KINDS)
def test_termination_grace_covers_the_drain(overlay: list[Doc], kind: WorkerKind) -> None:
    """shutdown_timeout + settle_grace end before the kubelet's SIGKILL."""
    settings = _settings(overlay, kind)
    drain = settings.shutdown_timeout + settings.settle_grace
    assert pod_spec(_deployment(overlay, kind))["terminationGracePeriodSeconds"] > drain


@pytest.mark.parametrize("kind", KINDS)
def test_runs_as_the_image_user_on_a_read_only_root(overlay: list[Doc], kind: WorkerKind) -> None:
    """Non-root as the Dockerfile's USER, read-only root, no privilege escalation."""
    deployment = _deployment(overlay, kind)
    pod, c = pod_spec(deployment)["securityContext"], container(deployment)["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"]) == image_user()
    assert c["readOnlyRootFilesystem"] is True
    assert c["allowPrivilegeEscalation"] is False
    assert c["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("kind", KINDS)
def test_keda_scales_it_on_its_own_queue(overlay: list[Doc], kind: WorkerKind) -> None:
    """A ScaledObject targets this Deployment, on the depth of the queue it consumes."""
    scaler = _scaler(overlay, kind)
    assert scaler["apiVersion"] == "keda.sh/v1alpha1"
    assert (
        scaler["spec"]["scaleTargetRef"]["name"] == _deployment(overlay, kind)["metadata"]["name"]
    )
    assert "replicas" not in _deployment(overlay, kind)["spec"]
    [trigger] = scaler["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["mode"] == "QueueLength"
    assert trigger["metadata"]["queueName"] == _settings(overlay, kind).queue
    assert 1 <= scaler["spec"]["minReplicaCount"] <= scaler["spec"]["maxReplicaCount"]


@pytest.mark.parametrize("kind", KINDS)
def test_keda_reads_the_broker_the_worker_uses(overlay: list[Doc], kind: WorkerKind) -> None:
    """The trigger's TriggerAuthentication names a Secret key holding the worker's AMQP URL."""
    [trigger] = _scaler(overlay, kind)["spec"]["triggers"]
    auth = named(overlay, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert auth["apiVersion"] == "keda.sh/v1alpha1"
    [ref] = [r for r in auth["spec"]["secretTargetRef"] if r["parameter"] == "host"]
    host = secret_value(overlay, ref["name"], ref["key"])
    assert host == _settings(overlay, kind).amqp_url.reveal()


def test_each_consumer_scales_independently(overlay: list[Doc]) -> None:
    """One ScaledObject per consumer Deployment, each on a different queue."""
    scalers = of_kind(overlay, "ScaledObject")
    targets = sorted(s["spec"]["scaleTargetRef"]["name"] for s in scalers)
    queues = {s["spec"]["triggers"][0]["metadata"]["queueName"] for s in scalers}
    assert targets == sorted(f"sinch-consumer-{k.value}" for k in KINDS)
    assert len(queues) == len(KINDS)
