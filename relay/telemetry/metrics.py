"""Prometheus metrics of one relay process, in a registry owned by the app (no globals)."""

from __future__ import annotations

import dataclasses

from prometheus_client import CollectorRegistry, Counter, Gauge

from relay.telemetry.tallies import LatencyHistogram, RequestCounter

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclasses.dataclass(frozen=True, slots=True)
class Metrics:
    registry: CollectorRegistry
    requests: RequestCounter
    misrouted: Counter
    unrouted: Counter
    publish_seconds: LatencyHistogram
    in_flight: Gauge
    broker_up: Gauge
    auth_failures: Counter
    quarantined: Counter
    quarantine_dropped: Counter
    replays: Counter
    stale_signatures: Counter
    replay_store_errors: Counter
    # The Sinch account of each account route (`/sms/eu/incoming` -> `eu`), set once by the
    # app; a route not in it is the default paths' (label "", which PromQL reads as absent).
    route_accounts: dict[str, str]

    def count_request(self, route: str, type_: str, status: int) -> None:
        self.requests.inc(route, type_, status)


def create_metrics() -> Metrics:
    registry = CollectorRegistry()
    accounts: dict[str, str] = {}
    return Metrics(
        registry=registry,
        route_accounts=accounts,
        requests=RequestCounter(
            "relay_requests",
            "Callback requests answered, by route, type, status and Sinch account",
            accounts,
            registry,
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
        publish_seconds=LatencyHistogram(
            "relay_publish_seconds", "Publish-to-confirm latency", _LATENCY_BUCKETS, registry
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
            "Requests refused by edge security (refusals only), by reason",
            ["route", "reason", "account"],
            registry=registry,
        ),
        replay_store_errors=Counter(
            "relay_replay_store_errors",
            "Failed commands to the shared replay store (claim: a 503), by operation",
            ["operation"],
            registry=registry,
        ),
        quarantined=Counter(
            "relay_quarantined",
            "Refused callbacks kept in the quarantine queue, by route and refusal reason",
            ["route", "reason"],
            registry=registry,
        ),
        quarantine_dropped=Counter(
            "relay_quarantine_dropped",
            "Refused callbacks not kept (busy, too_large, unreadable, publish_failed)",
            ["reason"],
            registry=registry,
        ),
        replays=Counter(
            "relay_replays",
            "Signed callbacks seen again while remembered: answered 200, not published again",
            ["route"],
            registry=registry,
        ),
        stale_signatures=Counter(
            "relay_stale_signatures",
            "Valid signatures outside their time window, published once: to the unrouted "
            "exchange, or flagged (shared replay memory), by outcome",
            ["route", "outcome"],
            registry=registry,
        ),
    )
