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
from consumers.store import address, sql
from consumers.store.address import StoreError, StoreMissing
from consumers.store.reads import SqlReads

HAS_SCHEMA = "SELECT to_regclass('processed') IS NOT NULL"
CONNECT_TIMEOUT = 10.0
MARK_NEW = """INSERT INTO processed (consumer, dedup_key, processed_at_us)
    SELECT $1, k, $3 FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING RETURNING dedup_key"""


class PostgresStore(SqlReads):
    def __init__(
        self, url: str, pool_size: int = 4, schema: str | None = None, *, create: bool = True
    ) -> None:
        self._url = url
        self._pool_size = pool_size
        self._settings = {"search_path": schema} if schema else {}
        self._create = create  # False: use existing tables only (read-only commands)
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        """Connect and create the schema (unless `create=False`); `StoreError` says why not."""
        try:
            self._pool = await asyncpg.create_pool(
                self._url, min_size=1, max_size=self._pool_size,
                server_settings=self._settings, timeout=CONNECT_TIMEOUT,
            )  # fmt: skip
            await (self._create_schema() if self._create else self._check_schema())
        except StoreError:
            await self.close()
            raise
        except Exception as exc:
            await self.close()
            raise StoreError(_reason(exc)) from None

    async def _create_schema(self) -> None:
        # One schema creator at a time: concurrent CREATE IF NOT EXISTS can collide.
        async with self._acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7261)")
            for statement in sql.SCHEMA:
                await conn.execute(statement)

    async def _check_schema(self) -> None:
        if not (await self._fetch(HAS_SCHEMA, ()))[0][0]:
            raise StoreMissing(f"no store at {address.parse(self._url).location} (no tables)")

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


def _reason(exc: Exception) -> str:
    """The server's or the socket's words; a class name for anything that might quote the URL."""
    if isinstance(exc, asyncpg.PostgresError):
        return f"PostgreSQL: {exc}"
    if isinstance(exc, TimeoutError):
        return f"no answer from PostgreSQL within {CONNECT_TIMEOUT:g}s"
    if isinstance(exc, OSError) and exc.strerror:
        return f"PostgreSQL unreachable: {exc.strerror}"
    return type(exc).__name__


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
