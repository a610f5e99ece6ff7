"""The effects handlers ask the store to apply: plain frozen data, no I/O."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

INTERMEDIATE_STATUSES = frozenset({"Queued", "Dispatched"})


@dataclasses.dataclass(frozen=True, slots=True)
class RecipientReport:
    """The status of one (batch_id, recipient) at time `at` (epoch microseconds)."""

    batch_id: str
    recipient: str
    status: str
    code: str
    at: str
    at_us: int
    type: str
    client_reference: str | None = None

    @property
    def is_final(self) -> bool:
        """Everything but Queued and Dispatched is final, unknown statuses included."""
        return self.status not in INTERMEDIATE_STATUSES


@dataclasses.dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    code: str
    count: int


@dataclasses.dataclass(frozen=True, slots=True)
class BatchReport:
    """The per-status counts of a batch delivery report."""

    batch_id: str
    type: str
    total_message_count: int
    counts: tuple[StatusCount, ...]

    @property
    def final_count(self) -> int:
        return sum(c.count for c in self.counts if c.status not in INTERMEDIATE_STATUSES)


@dataclasses.dataclass(frozen=True, slots=True)
class OptChange:
    opted_out: bool
    keyword: str


@dataclasses.dataclass(frozen=True, slots=True)
class InboundMessage:
    """An inbound SMS/MMS; `body` is text (mo_text), Base64 (mo_binary) or JSON (mo_media)."""

    id: str
    type: str
    sender: str
    to: str
    body: str
    udh: str | None
    received_at: str
    received_at_us: int
    payload: str
    opt: OptChange | None = None


Effect = RecipientReport | BatchReport | InboundMessage


@dataclasses.dataclass(frozen=True, slots=True)
class Keyed:
    """An effect with the dedup key that makes applying it idempotent."""

    key: str
    effect: Effect


def parse_timestamp(text: str) -> int:
    """ISO-8601 (with `Z`, an offset, or naive meaning UTC) to epoch microseconds."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def supersedes(new: RecipientReport, old: RecipientReport) -> bool:
    """The monotonic rule: final beats intermediate; within one kind, the later `at` wins."""
    if new.is_final != old.is_final:
        return new.is_final
    return new.at_us > old.at_us
