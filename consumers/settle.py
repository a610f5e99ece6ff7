"""The ack policy as pure functions: what happened to a delivery -> what to tell the broker.

No transport here, so the rules the samples exist to teach are testable with fake messages:

- `outcome_of` maps what a handler raised to an `Outcome`;
- `decide` maps an outcome (and the attempt number) to `Ack`, `RetryLater` or `DeadLetter`;
- `after_reroute` turns a retry or dead letter into `Ack` once its copy is confirmed, else
  `Requeue` (the broker keeps the original; nothing is lost);
- `ack_plan` finds the one `multiple=True` ack a batch allows, and what it cannot cover;
- `Outstanding` remembers the delivery tags a channel has given us and we have not settled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Hashable, Sequence
from typing import Generic, TypeVar

from consumers.errors import Reject, Retry
from consumers.policy import DeadLetter, RetryLater, RetryPolicy

M = TypeVar("M")
K = TypeVar("K", bound=Hashable)


@dataclasses.dataclass(frozen=True, slots=True)
class Applied:
    """The store committed the effect (`new`) or already had its dedup key (duplicate)."""

    new: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Failed:
    """Worth another try: the handler asked (`Retry`), crashed, or the store failed."""

    reason: str
    delay: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Rejected:
    """Can never succeed: the handler raised `Reject`, or the body is undecodable."""

    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Ack:
    """Done with: the broker may forget it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Requeue:
    """Put it back as it was (nack with requeue): its retry copy could not be published."""


Outcome = Applied | Failed | Rejected
Decision = Ack | RetryLater | DeadLetter
Settled = Ack | Requeue


def outcome_of(exc: Exception) -> Failed | Rejected:
    """What a handler's exception means; anything unexpected is retried under its type name."""
    if isinstance(exc, Reject):
        return Rejected(exc.reason)
    if isinstance(exc, Retry):
        return Failed(exc.reason, exc.delay)
    return Failed(type(exc).__name__)


def decide(outcome: Outcome, attempt: int, policy: RetryPolicy) -> Decision:
    """Applied -> ack; rejected -> dead letter; failed -> the policy's retry or dead letter."""
    if isinstance(outcome, Applied):
        return Ack()
    if isinstance(outcome, Rejected):
        return DeadLetter(outcome.reason)
    return policy.after_failure(attempt, outcome.reason, outcome.delay)


def after_reroute(decision: Decision, confirmed: bool) -> Settled:
    """A rerouted message may be acked only once the broker confirmed its copy."""
    if isinstance(decision, Ack) or confirmed:
        return Ack()
    return Requeue()


@dataclasses.dataclass(frozen=True, slots=True)
class AckPlan(Generic[M]):
    """`through` gets one `multiple=True` ack; `each` are acked one by one after it."""

    through: M | None
    each: tuple[M, ...]


def ack_plan(
    acked: Sequence[M], outstanding: Collection[int], tag: Callable[[M], int]
) -> AckPlan[M]:
    """One multiple ack up to the highest tag below which every outstanding tag is acked.

    `outstanding` is every tag the channel delivered and we have not settled yet (requeued
    ones already nacked are not in it). A multiple ack to tag T settles *all* of them up to
    T, so an outstanding tag that must not be acked now forbids one across it: the acks
    above that gap go one by one.
    """
    by_tag = {tag(m): m for m in acked}
    through: int | None = None
    for t in sorted(set(outstanding) | by_tag.keys()):
        if t not in by_tag:
            break
        through = t
    if through is None:
        return AckPlan(None, tuple(by_tag[t] for t in sorted(by_tag)))
    rest = tuple(by_tag[t] for t in sorted(by_tag) if t > through)
    return AckPlan(by_tag[through], rest)


class Outstanding(Generic[K]):
    """Delivery tags received and not yet settled, per channel (tags are per channel)."""

    def __init__(self) -> None:
        self._tags: dict[K, set[int]] = {}

    def received(self, channel: K, tag: int) -> None:
        self._tags.setdefault(channel, set()).add(tag)

    def settled(self, channel: K, tags: Collection[int]) -> None:
        left = self._tags.get(channel, set()) - set(tags)
        if left:
            self._tags[channel] = left
        else:
            self._tags.pop(channel, None)

    def of(self, channel: K) -> frozenset[int]:
        return frozenset(self._tags.get(channel, ()))

    def forget(self, gone: Callable[[K], bool]) -> None:
        """Drop channels that closed: their unsettled deliveries return to the queue anyway."""
        for channel in [c for c in self._tags if gone(c)]:
            del self._tags[channel]
