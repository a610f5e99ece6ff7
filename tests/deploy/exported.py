"""The sample names (and their labels) the relay and the consumers really export.

Read from the exposition of real registries, every metric exercised once, so a suffix
prometheus-client adds (`_total`, `_bucket`, ...) is seen as Prometheus will see it.
"""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from consumers.metrics import OUTCOMES, Metrics
from relay.telemetry.metrics import create_metrics

# Exported by the broker's own exporter, the rabbitmq_prometheus plugin (per-object
# endpoint), not by this project: the queue-depth alerts read them.
RABBITMQ_PLUGIN = {
    "rabbitmq_queue_messages_ready": frozenset({"queue", "vhost"}),
    "rabbitmq_queue_consumers": frozenset({"queue", "vhost"}),
}


def relay_exposition() -> bytes:
    m = create_metrics()
    m.count_request("/sms", "delivery_report", 200)
    m.misrouted.labels("mo_text").inc()
    m.unrouted.labels("unknown_type").inc()
    m.publish_seconds.observe(0.01)
    m.in_flight.set(1)
    m.broker_up.set(1)
    m.auth_failures.labels("/sms", "signature", "").inc()
    m.replay_store_errors.labels("claim").inc()
    m.quarantined.labels("/sms", "bad_signature").inc()
    m.quarantine_dropped.labels("busy").inc()
    m.replays.labels("/sms").inc()
    m.stale_signatures.labels("/sms", "unrouted").inc()
    return generate_latest(m.registry)


def consumer_exposition() -> bytes:
    m = Metrics("sinch.consumers.inbound")
    for outcome in OUTCOMES:
        m.count(outcome)
    m.observe_batch(0.01)
    m.observe_handler(0.001)
    return m.render()


def samples(exposition: bytes) -> dict[str, frozenset[str]]:
    """Sample name -> its label names, for each sample in the exposition."""
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return {name: frozenset(labels) for name, labels in found.items()}


def families_without_samples(exposition: bytes) -> list[str]:
    """Metrics the exercise above missed: a new metric must be exercised here too."""
    families = text_string_to_metric_families(exposition.decode())
    return [f.name for f in families if not f.samples]


def project_samples() -> dict[str, frozenset[str]]:
    return samples(relay_exposition()) | samples(consumer_exposition())


def all_known() -> dict[str, frozenset[str]]:
    """The project's samples, then the broker plugin's (clearly theirs, listed above)."""
    return project_samples() | RABBITMQ_PLUGIN
