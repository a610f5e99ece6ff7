"""Prometheus metrics of one worker, on its own registry (no process-wide globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

OUTCOMES = ("applied", "duplicate", "retried", "dead_lettered", "requeued")


class Metrics:
    def __init__(self, queue: str) -> None:
        self._queue = queue
        self.registry = CollectorRegistry(auto_describe=True)
        self._messages = Counter(
            "consumer_messages",
            "Messages settled by the worker, by outcome.",
            ["queue", "outcome"],
            registry=self.registry,
        )
        self._batch = Histogram(
            "consumer_batch_seconds",
            "Time to handle, store and settle one batch.",
            ["queue"],
            registry=self.registry,
        )
        self._handler = Histogram(
            "consumer_handler_seconds",
            "Time the sample handler took to decide one message's effect.",
            ["queue"],
            registry=self.registry,
        )
        self._counters = {o: self._messages.labels(queue, o) for o in OUTCOMES}
        self._batch_seconds = self._batch.labels(queue)
        self._handler_seconds = self._handler.labels(queue)

    def count(self, outcome: str, n: int = 1) -> None:
        if n:
            self._counters[outcome].inc(n)

    def total(self, outcome: str) -> int:
        """How many messages were settled with `outcome` so far (read from the registry)."""
        labels = {"queue": self._queue, "outcome": outcome}
        return int(self.registry.get_sample_value("consumer_messages_total", labels) or 0)

    def totals(self) -> dict[str, int]:
        return {outcome: self.total(outcome) for outcome in OUTCOMES}

    def observe_batch(self, seconds: float) -> None:
        self._batch_seconds.observe(seconds)

    def observe_handler(self, seconds: float) -> None:
        self._handler_seconds.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
