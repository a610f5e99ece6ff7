"""The Kubernetes pack builds with kustomize and its built-in kinds match the API schemas."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.deploy.manifests import Doc

# The oldest Kubernetes the pack targets (autoscaling/v2, policy/v1 are GA) and the newest.
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
BUILT_IN_GROUPS = frozenset({"", "apps", "autoscaling", "policy", "networking.k8s.io"})
CUSTOM_GROUPS = frozenset({"keda.sh"})


def _group(doc: Doc) -> str:
    api: str = doc["apiVersion"]
    return api.rpartition("/")[0]


def test_base_builds_every_workload(base: list[Doc]) -> None:
    """The base holds the relay and one Deployment per consumer, and no Secret."""
    names = {d["metadata"]["name"] for d in base if d["kind"] == "Deployment"}
    assert names == {
        "sinch-relay",
        "sinch-consumer-delivery-reports",
        "sinch-consumer-inbound",
    }
    assert [d for d in base if d["kind"] == "Secret"] == []


def test_overlay_puts_everything_in_one_namespace(overlay: list[Doc]) -> None:
    """The example overlay sets its namespace on every document it builds."""
    assert {d["metadata"].get("namespace") for d in overlay} == {"sinch"}


def test_only_known_api_groups(base: list[Doc], overlay: list[Doc]) -> None:
    """Every document is a built-in kind or one of KEDA's custom resources."""
    groups = {_group(d) for d in base + overlay}
    assert groups <= BUILT_IN_GROUPS | CUSTOM_GROUPS


@pytest.mark.parametrize("version", VERSIONS)
def test_built_in_kinds_validate_against_the_schemas(
    base: list[Doc], overlay: list[Doc], version: str
) -> None:
    """Strict schema validation (no unknown fields) of each built-in document."""
    for doc in base + overlay:
        if _group(doc) in BUILT_IN_GROUPS:
            kubernetes_validate.validate(doc, version, strict=True)
