"""Unique exchange and queue names per test, so tests on one broker never see each other."""

from __future__ import annotations

import uuid

from relay.config import TopologySettings


def unique_topology(prefix: str = "t") -> TopologySettings:
    """The relay's topology under names no other test uses (classic unrouted queue)."""
    tag = f"{prefix}.{uuid.uuid4().hex[:8]}"
    return TopologySettings(
        delivery_reports=f"{tag}.delivery_reports",
        inbound=f"{tag}.inbound",
        unrouted=f"{tag}.unrouted",
        archive=f"{tag}.archive",
        quarantine=f"{tag}.quarantine",
        unrouted_queue_type="classic",
    )
