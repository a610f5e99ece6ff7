"""The per-request metrics as plain Python counts, made Prometheus families at scrape time.

prometheus-client's `Counter` and `Histogram` take a lock (and, labelled, look a child
up by a tuple of label strings) on every `inc` and `observe`: about 15k instructions
per callback for the request counter and the publish histogram together, where a dict
increment and a `bisect` into a list cost a tenth of that (docs/performance.md). These
two classes keep the counts and hand them to the registry as a custom collector, so a
scrape reads the same names, types, labels, values and `_created` series as before.

No lock is needed: a relay process is one asyncio event loop (`--workers N` runs N
processes, each with its own registry), and `/metrics` is rendered on that same loop,
so a scrape never runs in the middle of an increment.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator, Mapping, Sequence

from prometheus_client import CollectorRegistry, metrics
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

RequestKey = tuple[str, str, int]  # route, type, status


class RequestCounter:
    """`<name>_total{route, type, status, account}` of answered requests, as `Counter` did.

    The account label is the route's (`accounts`, filled by the app once at start-up),
    read when a route/type/status is first counted, as the labelled child was made then.
    """

    LABELS = ("route", "type", "status", "account")

    def __init__(
        self,
        name: str,
        documentation: str,
        accounts: Mapping[str, str],
        registry: CollectorRegistry,
    ) -> None:
        self._name, self._documentation = name, documentation
        self._accounts = accounts
        self._counts: dict[RequestKey, int] = {}
        self._first_seen: dict[RequestKey, tuple[list[str], float]] = {}
        registry.register(self)

    def inc(self, route: str, type_: str, status: int) -> None:
        key = (route, type_, status)
        counts = self._counts
        if key in counts:
            counts[key] += 1
            return
        counts[key] = 1
        account = self._accounts.get(route, "")
        self._first_seen[key] = ([route, type_, str(status), account], time.time())

    def describe(self) -> Iterator[Metric]:
        yield Metric(self._name, self._documentation, "counter")

    def collect(self) -> Iterator[Metric]:
        family = Metric(self._name, self._documentation, "counter")
        total, created = f"{self._name}_total", f"{self._name}_created"
        for key, count in self._counts.items():
            values, since = self._first_seen[key]
            labels = dict(zip(self.LABELS, values, strict=True))
            family.add_sample(total, labels, float(count))
            if metrics._use_created:  # PROMETHEUS_DISABLE_CREATED_SERIES, as `Counter` reads it
                family.add_sample(created, labels, since)
        yield family


class LatencyHistogram:
    """An unlabelled `Histogram`: `observe` bisects into per-bucket counts, summed at scrape."""

    def __init__(
        self,
        name: str,
        documentation: str,
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self._name, self._documentation = name, documentation
        self._bounds = [*buckets, float("inf")]
        self._counts = [0] * len(self._bounds)  # not cumulative: one increment per observe
        self._les = [floatToGoString(b) for b in self._bounds]  # type: ignore[no-untyped-call]
        self._sum = 0.0
        self._created = time.time()
        registry.register(self)

    def observe(self, seconds: float) -> None:
        # The first bucket whose upper bound is >= seconds: `Histogram`'s `amount <= bound`.
        self._counts[bisect.bisect_left(self._bounds, seconds)] += 1
        self._sum += seconds

    def describe(self) -> Iterator[Metric]:
        yield Metric(self._name, self._documentation, "histogram")

    def collect(self) -> Iterator[Metric]:
        family = Metric(self._name, self._documentation, "histogram")
        cumulative = 0.0
        for le, count in zip(self._les, self._counts, strict=True):
            cumulative += count
            family.add_sample(f"{self._name}_bucket", {"le": le}, cumulative)
        family.add_sample(f"{self._name}_count", {}, cumulative)
        family.add_sample(f"{self._name}_sum", {}, self._sum)
        if metrics._use_created:
            family.add_sample(f"{self._name}_created", {}, self._created)
        yield family
