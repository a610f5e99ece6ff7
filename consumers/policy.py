"""The retry policy as pure data: which retry queue, or the dead-letter queue, and why."""

from __future__ import annotations

import bisect
import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class RetryLater:
    delay: float
    next_attempt: int


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Growing delays (one retry queue each) and a cap on attempts, then the DLQ."""

    delays: tuple[float, ...]
    max_attempts: int

    def after_failure(
        self, attempt: int, reason: str, delay: float | None
    ) -> RetryLater | DeadLetter:
        """What to do with a message whose `attempt`-th try asked to be retried."""
        if attempt >= self.max_attempts:
            return DeadLetter(f"retries exhausted after {attempt} attempts: {reason}")
        wanted = self.backoff(attempt) if delay is None else delay
        return RetryLater(delay=self.tier(wanted), next_attempt=attempt + 1)

    def backoff(self, attempt: int) -> float:
        """The configured delay for the `attempt`-th failure (the last one repeats)."""
        return self.delays[min(attempt, len(self.delays)) - 1]

    def tier(self, wanted: float) -> float:
        """The smallest configured delay >= `wanted` (the longest if none is)."""
        ordered = sorted(self.delays)
        index = bisect.bisect_left(ordered, wanted)
        return ordered[min(index, len(ordered) - 1)]


def retry_queue_name(queue: str, delay: float) -> str:
    return f"{queue}.retry.{round(delay * 1000)}ms"


def dead_letter_names(queue: str) -> tuple[str, str]:
    """(dead-letter exchange, dead-letter queue) of a worker queue."""
    return f"{queue}.dlx", f"{queue}.dlq"
