"""The relay's manifests agree with its own settings, routes, image and drain sequence."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from relay.cli.reference import rows
from relay.config import Settings, load_settings
from relay.edge.app import create_app
from tests.deploy.manifests import (
    Doc,
    container,
    environment,
    mounted_files,
    named,
    pod_spec,
    port_numbers,
    secret_value,
    selects,
)
from tests.deploy.tools import image_user
from tests.ship import dockerfile
from tests.ship.dockerfile import ROOT
from tests.support.fakes import FakePublisher

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")

RELAY_TOML = ROOT / "config" / "relay.toml"  # in the image at /app/config, read by default


def _relay(docs: list[Doc]) -> Doc:
    return named(docs, "Deployment", "sinch-relay")


def _settings(docs: list[Doc], tmp_path: Path) -> Settings:
    """What the relay would load in its pod: the image's TOML plus the pod's variables.

    Mounted secret files are written under tmp_path with the Secret's value, so a
    `*_FILE` variable that points anywhere else fails to load.
    """
    deployment = _relay(docs)
    env = environment(docs, deployment)
    for path, key in mounted_files(docs, deployment).items():
        local = tmp_path / key
        local.write_text(secret_value(docs, "sinch-relay", key), encoding="utf-8")
        env = {var: str(local) if value == path else value for var, value in env.items()}
    return load_settings(RELAY_TOML, env)


def _routes(settings: Settings) -> set[str]:
    app: web.Application = create_app(settings, FakePublisher())
    return {r.canonical for r in app.router.resources()}


def test_runs_the_image_command(overlay: list[Doc]) -> None:
    """The container runs the Dockerfile's CMD, `relay serve`."""
    assert container(_relay(overlay))["args"] == dockerfile.start_command(DOCKERFILE)


def test_variables_are_relay_settings(overlay: list[Doc]) -> None:
    """Every RELAY_* variable the pod gets names a real setting."""
    known = {row.env for row in rows()}
    env = environment(overlay, _relay(overlay))
    assert {var for var in env if var.startswith("RELAY_")} - known == set()


def test_secret_files_are_mounted_where_the_settings_point(
    overlay: list[Doc], tmp_path: Path
) -> None:
    """Each *_FILE variable names a file of the mounted Secret, and the relay loads them."""
    env = environment(overlay, _relay(overlay))
    files = mounted_files(overlay, _relay(overlay))
    pointed = {value for var, value in env.items() if var.endswith("_FILE")}
    assert pointed
    assert pointed <= files.keys()
    settings = _settings(overlay, tmp_path)
    assert settings.security.hmac_secrets
    assert settings.security.hmac_routes


def test_container_port_is_the_listen_port(overlay: list[Doc], tmp_path: Path) -> None:
    """The port named http is the one the relay's settings listen on."""
    assert port_numbers(_relay(overlay))["http"] == _settings(overlay, tmp_path).http.port


def test_probes_are_the_relay_health_endpoints(overlay: list[Doc], tmp_path: Path) -> None:
    """Readiness on /readyz, liveness on /healthz, both routes of the relay, on its port."""
    c = container(_relay(overlay))
    readiness, liveness = c["readinessProbe"]["httpGet"], c["livenessProbe"]["httpGet"]
    assert (readiness["path"], liveness["path"]) == ("/readyz", "/healthz")
    assert readiness["port"] == liveness["port"] == "http"
    assert {"/readyz", "/healthz"} <= _routes(_settings(overlay, tmp_path))


def test_scrape_annotations_name_the_metrics_route(overlay: list[Doc], tmp_path: Path) -> None:
    """Prometheus is pointed at the container port and the relay's /metrics route."""
    deployment = _relay(overlay)
    notes = deployment["spec"]["template"]["metadata"]["annotations"]
    assert int(notes["prometheus.io/port"]) == port_numbers(deployment)["http"]
    assert notes["prometheus.io/path"] in _routes(_settings(overlay, tmp_path))


def test_termination_grace_covers_the_drain(overlay: list[Doc], tmp_path: Path) -> None:
    """preStop sleep + shutdown.grace + shutdown.timeout end before the kubelet's SIGKILL."""
    deployment = _relay(overlay)
    command = container(deployment)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    shutdown = _settings(overlay, tmp_path).shutdown
    drain = float(command[1]) + shutdown.grace + shutdown.timeout
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] > drain


def test_runs_as_the_image_user_on_a_read_only_root(overlay: list[Doc]) -> None:
    """Non-root as the Dockerfile's USER, read-only root, no privilege escalation."""
    deployment = _relay(overlay)
    pod, c = pod_spec(deployment)["securityContext"], container(deployment)["securityContext"]
    uid, gid = image_user()
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid)
    assert c["readOnlyRootFilesystem"] is True
    assert c["allowPrivilegeEscalation"] is False
    assert c["capabilities"]["drop"] == ["ALL"]


def test_service_reaches_the_relay_port(overlay: list[Doc]) -> None:
    """The Service selects the relay's pods and targets its named container port."""
    deployment, service = _relay(overlay), named(overlay, "Service", "sinch-relay")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_numbers(deployment).keys()


def test_autoscaler_owns_the_replica_count(overlay: list[Doc]) -> None:
    """The HPA scales the relay Deployment from two up; the Deployment sets no replicas."""
    deployment, hpa = _relay(overlay), named(overlay, "HorizontalPodAutoscaler", "sinch-relay")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "sinch-relay")
    assert hpa["spec"]["minReplicas"] >= 2
    assert "replicas" not in deployment["spec"]


def test_disruption_budget_lets_drains_through(overlay: list[Doc]) -> None:
    """The PDB selects the relay's pods and still lets one go at the HPA's minimum."""
    deployment = _relay(overlay)
    pdb = named(overlay, "PodDisruptionBudget", "sinch-relay")
    hpa = named(overlay, "HorizontalPodAutoscaler", "sinch-relay")
    assert selects(pdb["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"])
    assert 1 <= pdb["spec"]["maxUnavailable"] < hpa["spec"]["minReplicas"]
