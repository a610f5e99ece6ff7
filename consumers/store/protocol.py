"""The store seam: apply keyed effects exactly once, read results back."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from consumers.model import BatchReport, InboundMessage, Keyed, RecipientReport


@dataclasses.dataclass(frozen=True, slots=True)
class OptOut:
    sender: str
    our_number: str
    keyword: str
    changed_at: str


@dataclasses.dataclass(frozen=True, slots=True)
class OptState:
    """The opt-out list's entry for one (sender, our number): the change it holds."""

    opted_out: bool
    keyword: str
    message_id: str


class Store(Protocol):
    """Applies effects in one transaction with the dedup keys that guard them."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None: ...

    async def apply(self, consumer: str, items: Sequence[Keyed]) -> list[bool]:
        """Apply every item whose key `consumer` has not seen; True where applied.

        Keys and effects commit together: when this returns, the result is durable;
        when it raises, nothing of the batch was applied.
        """
        ...

    async def recipient_statuses(self, batch_id: str) -> list[RecipientReport]: ...

    async def batch_report(self, batch_id: str) -> BatchReport | None: ...

    async def inbound_message(self, message_id: str) -> InboundMessage | None: ...

    async def opt_outs(self, our_number: str | None = None) -> list[OptOut]: ...

    async def is_opted_out(self, sender: str, our_number: str) -> bool: ...

    async def opt_state(self, sender: str, our_number: str) -> OptState | None:
        """The change the list holds for the pair (the newest `received_at` wins), if any."""
        ...
