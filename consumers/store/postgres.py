"""PostgreSQL store (asyncpg): for workers spread over several machines.

A batch is one transaction: the dedup keys are inserted first (`RETURNING` says which
are new), then only the new effects are applied, pipelined with `executemany`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import asyncpg

from consumers.model import Keyed
from consumers.store import sql
from consumers.store.reads import SqlReads

MARK_NEW = """INSERT INTO processed (consumer, dedup_key, processed_at_us)
    SELECT $1, k, $3 FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING RETURNING dedup_key"""


class PostgresStore(SqlReads):
    def __init__(self, url: str, pool_size: int = 4, schema: str | None = None) -> None:
        self._url = url
        self._pool_size = pool_size
        self._settings = {"search_path": schema} if schema else {}
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._url, min_size=1, max_size=self._pool_size, server_settings=self._settings
        )
        # One schema creator at a time: concurrent CREATE IF NOT EXISTS can collide.
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7261)")
            for statement in sql.SCHEMA:
                await conn.execute(statement)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ping(self) -> None:
        await self._fetch("SELECT 1", ())

    async def apply(self, consumer: str, items: Sequence[Keyed]) -> list[bool]:
        now = time.time_ns() // 1000
        async with self._acquire() as conn, conn.transaction():
            rows = await conn.fetch(MARK_NEW, consumer, [i.key for i in items], now)
            fresh = {r["dedup_key"] for r in rows}
            applied = [_claim(fresh, item.key) for item in items]
            await _execute(conn, [i for i, ok in zip(items, applied, strict=True) if ok])
        return applied

    def _acquire(self) -> Any:
        if self._pool is None:
            raise RuntimeError("store is not open")
        return self._pool.acquire()

    async def _fetch(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with self._acquire() as conn:
            return [tuple(r) for r in await conn.fetch(sql.numbered(query), *params)]


def _claim(fresh: set[str], key: str) -> bool:
    """True for the first item carrying a new key; a second copy in the batch is a duplicate."""
    if key in fresh:
        fresh.discard(key)
        return True
    return False


async def _execute(conn: Any, items: Sequence[Keyed]) -> None:
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for item in items:
        for query, params in sql.statements(item.effect):
            grouped[query].append(params)
    for query, rows in grouped.items():
        # The same row order in every worker keeps concurrent batches from deadlocking.
        rows.sort(key=lambda r: (str(r[0]), str(r[1])))
        await conn.executemany(sql.numbered(query), rows)
