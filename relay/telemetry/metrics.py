"""Prometheus metrics of one relay process, in a registry owned by the app (no globals)."""

from __future__ import annotations

import dataclasses
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclasses.dataclass(frozen=True, slots=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    misrouted: Counter
    unrouted: Counter
    publish_seconds: Histogram
    in_flight: Gauge
    broker_up: Gauge
    auth_failures: Counter
    replay_store_errors: Counter
    # The Sinch account of each account route (`/sms/eu/incoming` -> `eu`), set once by the
    # app; a route not in it is the default paths' (label "", which PromQL reads as absent).
    route_accounts: dict[str, str] = dataclasses.field(default_factory=dict)
    # Labelled children of `requests`; labels() takes a lock and builds a key per call.
    _request_children: dict[tuple[str, str, int], Any] = dataclasses.field(default_factory=dict)

    def count_request(self, route: str, type_: str, status: int) -> None:
        key = (route, type_, status)
        child = self._request_children.get(key)
        if child is None:
            account = self.route_accounts.get(route, "")
            child = self.requests.labels(route, type_, str(status), account)
            self._request_children[key] = child
        child.inc()


def create_metrics() -> Metrics:
    registry = CollectorRegistry()
    return Metrics(
        registry=registry,
        requests=Counter(
            "relay_requests",
            "Callback requests answered, by route, type, status and Sinch account",
            ["route", "type", "status", "account"],
            registry=registry,
        ),
        misrouted=Counter(
            "relay_misrouted",
            "Known types that arrived on the other channel's URL",
            ["type"],
            registry=registry,
        ),
        unrouted=Counter(
            "relay_unrouted",
            "Callbacks published to the unrouted exchange, by reason class",
            ["reason"],
            registry=registry,
        ),
        publish_seconds=Histogram(
            "relay_publish_seconds",
            "Publish-to-confirm latency",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        in_flight=Gauge(
            "relay_publishes_in_flight", "Publishes awaiting a confirm", registry=registry
        ),
        broker_up=Gauge(
            "relay_broker_ready",
            "1 when connected, confirm channel open, not blocked",
            registry=registry,
        ),
        auth_failures=Counter(
            "relay_auth_failures",
            "Requests refused (401/403/429) or suppressed (replay) by edge security, by reason",
            ["route", "reason", "account"],
            registry=registry,
        ),
        replay_store_errors=Counter(
            "relay_replay_store_errors",
            "Failed commands to the shared replay store (claim: a 503), by operation",
            ["operation"],
            registry=registry,
        ),
    )
