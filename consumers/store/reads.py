"""The read side both SQL stores share; each supplies `_fetch` for its driver."""

from __future__ import annotations

from typing import Any

from consumers.model import BatchReport, InboundMessage, RecipientReport
from consumers.store import sql
from consumers.store.protocol import OptOut, OptState


class SqlReads:
    async def _fetch(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def recipient_statuses(self, batch_id: str) -> list[RecipientReport]:
        rows = await self._fetch(sql.SELECT_STATUSES, (batch_id,))
        return [sql.status_from_row(r) for r in rows]

    async def batch_report(self, batch_id: str) -> BatchReport | None:
        rows = await self._fetch(sql.SELECT_BATCH, (batch_id,))
        return sql.batch_from_row(rows[0]) if rows else None

    async def inbound_message(self, message_id: str) -> InboundMessage | None:
        rows = await self._fetch(sql.SELECT_INBOUND, (message_id,))
        return sql.inbound_from_row(rows[0]) if rows else None

    async def opt_outs(self, our_number: str | None = None) -> list[OptOut]:
        rows = await self._fetch(sql.SELECT_OPT_OUTS, (our_number or "", our_number or ""))
        return [OptOut(*r) for r in rows]

    async def is_opted_out(self, sender: str, our_number: str) -> bool:
        rows = await self._fetch(sql.SELECT_OPTED_OUT, (sender, our_number))
        return bool(rows and rows[0][0])

    async def opt_state(self, sender: str, our_number: str) -> OptState | None:
        rows = await self._fetch(sql.SELECT_OPT_STATE, (sender, our_number))
        return OptState(bool(rows[0][0]), rows[0][1], rows[0][2]) if rows else None
