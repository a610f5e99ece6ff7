"""The plain-count request counter and publish histogram scrape as prometheus-client's would."""

from __future__ import annotations

from unittest import mock

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from relay.telemetry.tallies import LatencyHistogram, RequestCounter

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.5, 5.0)
# On a bound, just past it, beyond the last one, and the same value again.
LATENCIES = (0.0005, 0.001, 0.0011, 0.004, 0.004, 0.3, 5.0, 7.0)
REQUESTS = (("/sms", "mo_text", 200), ("/sms/us/incoming", "other", 401), ("/sms", "mo_text", 200))
ACCOUNTS = {"/sms/us/incoming": "us"}


def _reference() -> bytes:
    registry = CollectorRegistry()
    labels = ["route", "type", "status", "account"]
    counter = Counter("relay_requests", "Requests", labels, registry=registry)
    histogram = Histogram("relay_publish_seconds", "Latency", buckets=BUCKETS, registry=registry)
    for route, type_, status in REQUESTS:
        counter.labels(route, type_, str(status), ACCOUNTS.get(route, "")).inc()
    for seconds in LATENCIES:
        histogram.observe(seconds)
    return generate_latest(registry)


def _ours() -> bytes:
    registry = CollectorRegistry()
    counter = RequestCounter("relay_requests", "Requests", ACCOUNTS, registry)
    histogram = LatencyHistogram("relay_publish_seconds", "Latency", BUCKETS, registry)
    for request in REQUESTS:
        counter.inc(*request)
    for seconds in LATENCIES:
        histogram.observe(seconds)
    return generate_latest(registry)


@pytest.mark.parametrize("created", [True, False])
def test_the_exposition_is_byte_for_byte_prometheus_clients(created: bool) -> None:
    """Same names, types, labels, values, bucket bounds and `_created` series (or none)."""
    with (
        mock.patch("time.time", return_value=1764651600.5),
        mock.patch("prometheus_client.metrics._use_created", created),
    ):
        assert _ours() == _reference()


def test_an_unused_histogram_exports_its_zero_buckets() -> None:
    """Before any publish, a scrape still shows the histogram (as `Histogram` does)."""
    registry = CollectorRegistry()
    LatencyHistogram("relay_publish_seconds", "Latency", BUCKETS, registry)
    value = registry.get_sample_value("relay_publish_seconds_bucket", {"le": "+Inf"})
    assert value == 0.0
