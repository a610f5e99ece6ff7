"""NetworkPolicies: each workload isolated, reachable on its port, reaching only its services."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.deploy.manifests import Doc, environment, of_kind, port_numbers, selects

DNS = 53
# Variables holding the URL of a service a workload talks to.
SERVICE_URLS = ("RELAY_AMQP_URL", "CONSUMER_AMQP_URL", "CONSUMER_STORE_URL")
DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671, "postgresql": 5432, "postgres": 5432}
WORKLOADS = ["sinch-relay", "sinch-consumer-delivery-reports", "sinch-consumer-inbound"]


def _deployment(docs: list[Doc], name: str) -> Doc:
    [found] = [d for d in of_kind(docs, "Deployment") if d["metadata"]["name"] == name]
    return found


def _policy(docs: list[Doc], deployment: Doc) -> Doc:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    policies = [
        p for p in of_kind(docs, "NetworkPolicy") if selects(p["spec"]["podSelector"], labels)
    ]
    assert len(policies) == 1, deployment["metadata"]["name"]
    return policies[0]


def _needed_ports(docs: list[Doc], deployment: Doc) -> set[int]:
    """DNS, plus the port of each service URL the workload is given."""
    env = environment(docs, deployment)
    urls = [urlsplit(env[var]) for var in SERVICE_URLS if var in env]
    return {DNS} | {url.port or DEFAULT_PORTS[url.scheme] for url in urls}


@pytest.mark.parametrize("name", WORKLOADS)
def test_each_workload_is_isolated_both_ways(overlay: list[Doc], name: str) -> None:
    """Exactly one policy selects the pods, and it restricts ingress and egress."""
    policy = _policy(overlay, _deployment(overlay, name))
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]


@pytest.mark.parametrize("name", WORKLOADS)
def test_ingress_is_only_the_container_port(overlay: list[Doc], name: str) -> None:
    """Ingress admits the named port the workload serves on (probes, scrapes, callbacks)."""
    deployment = _deployment(overlay, name)
    ports = {
        p["port"] for rule in _policy(overlay, deployment)["spec"]["ingress"] for p in rule["ports"]
    }
    assert ports == {"http"}
    assert "http" in port_numbers(deployment)


@pytest.mark.parametrize("name", WORKLOADS)
def test_egress_is_only_dns_and_its_services(overlay: list[Doc], name: str) -> None:
    """Egress ports are DNS and the ports of the broker/store URLs the workload uses."""
    deployment = _deployment(overlay, name)
    rules = _policy(overlay, deployment)["spec"]["egress"]
    ports = {p["port"] for rule in rules for p in rule["ports"]}
    assert ports == _needed_ports(overlay, deployment)
