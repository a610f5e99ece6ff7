"""Reading built Kubernetes documents: find by kind and name, the containers, their env."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Doc = dict[str, Any]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    """The one document of that kind and name (generated names keep the name as a prefix)."""
    found = [d for d in of_kind(docs, kind) if _same_name(d["metadata"]["name"], name)]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def _same_name(actual: str, name: str) -> bool:
    if actual == name:
        return True
    prefix, _, suffix = actual.rpartition("-")
    return prefix == name and len(suffix) == 10  # kustomize's content-hash suffix


def pod_spec(deployment: Doc) -> Doc:
    spec: Doc = deployment["spec"]["template"]["spec"]
    return spec


def container(deployment: Doc) -> Doc:
    """The one container of a Deployment (each of ours runs exactly one)."""
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1
    first: Doc = containers[0]
    return first


def environment(docs: list[Doc], deployment: Doc) -> dict[str, str]:
    """The container's variables: its ConfigMaps' data, then literal and Secret values."""
    c = container(deployment)
    env: dict[str, str] = {}
    for source in c.get("envFrom", ()):
        env |= named(docs, "ConfigMap", source["configMapRef"]["name"])["data"]
    for var in c.get("env", ()):
        env[var["name"]] = _value(docs, var)
    return env


def _value(docs: list[Doc], var: Doc) -> str:
    if "value" in var:
        return str(var["value"])
    ref = var["valueFrom"]["secretKeyRef"]
    return secret_value(docs, ref["name"], ref["key"])


def secret_value(docs: list[Doc], name: str, key: str) -> str:
    import base64

    data = named(docs, "Secret", name)["data"]
    assert key in data, f"Secret {name} has no key {key}"
    return base64.b64decode(data[key]).decode()


def mounted_files(docs: list[Doc], deployment: Doc) -> dict[str, str]:
    """Path in the container -> the Secret key mounted there."""
    volumes = {v["name"]: v for v in pod_spec(deployment).get("volumes", ())}
    files: dict[str, str] = {}
    for mount in container(deployment).get("volumeMounts", ()):
        secret = volumes[mount["name"]].get("secret")
        for item in secret.get("items", ()) if secret else ():
            secret_value(docs, secret["secretName"], item["key"])  # the key must exist
            files[f"{mount['mountPath']}/{item['path']}"] = item["key"]
    return files


def port_numbers(deployment: Doc) -> dict[str, int]:
    """Container port name -> number."""
    return {p["name"]: p["containerPort"] for p in container(deployment)["ports"]}


def selects(selector: Doc, labels: Doc) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def workloads(docs: list[Doc]) -> Iterator[Doc]:
    yield from of_kind(docs, "Deployment")
