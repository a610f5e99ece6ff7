"""SQLite store: one connection in WAL mode, driven from a single dedicated thread.

A whole batch is one `BEGIN IMMEDIATE ... COMMIT` in one hop to the thread, so the
per-message cost is a few statements, and durability (synchronous=FULL by default)
costs one fsync per batch.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from consumers.model import Keyed
from consumers.store import sql
from consumers.store.address import StoreError, StoreMissing
from consumers.store.reads import SqlReads

T = TypeVar("T")
HAS_SCHEMA = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'processed'"


class SqliteStore(SqlReads):
    def __init__(self, path: str, synchronous: str = "FULL", *, create: bool = True) -> None:
        self._path = path
        self._synchronous = synchronous
        self._create = create  # False: open an existing store only (read-only commands)
        self._executor: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        """Open (creating file and schema unless `create=False`); `StoreError` says why not."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-store")
        try:
            await self._run(self._connect)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._run(self._disconnect)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def ping(self) -> None:
        await self._run(lambda: self._conn().execute("SELECT 1").fetchone())

    async def apply(self, consumer: str, items: Sequence[Keyed]) -> list[bool]:
        return await self._run(lambda: self._apply(consumer, items))

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise RuntimeError("store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def _fetch(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return await self._run(lambda: self._conn().execute(query, params).fetchall())

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    def _connect(self) -> None:
        path = Path(self._path).absolute()
        if not self._create and not path.is_file():
            raise StoreMissing(f"no store at {path}")
        if not path.parent.is_dir():
            raise StoreError(f"no directory {path.parent} for the SQLite file")
        try:
            self._db = self._connected()
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite cannot open {path}: {exc}") from None

    def _connected(self) -> sqlite3.Connection:
        # mode=rw: a read-only command must not create the file it was pointed at.
        target = self._path if self._create else f"file:{quote(self._path)}?mode=rw"
        db = sqlite3.connect(target, uri=not self._create, isolation_level=None,
                             check_same_thread=False)  # fmt: skip
        try:
            db.execute("PRAGMA busy_timeout = 10000")
            if self._create:
                self._create_schema(db)
            elif db.execute(HAS_SCHEMA).fetchone() is None:
                raise StoreMissing(f"no store at {Path(self._path).absolute()} (no tables)")
        except BaseException:
            db.close()
            raise
        return db

    def _create_schema(self, db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {self._synchronous}")
        for statement in sql.SCHEMA:
            db.execute(statement)

    def _disconnect(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _apply(self, consumer: str, items: Sequence[Keyed]) -> list[bool]:
        db = self._conn()
        now = time.time_ns() // 1000
        db.execute("BEGIN IMMEDIATE")
        try:
            applied = [self._apply_one(db, consumer, item, now) for item in items]
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return applied

    @staticmethod
    def _apply_one(db: sqlite3.Connection, consumer: str, item: Keyed, now: int) -> bool:
        if db.execute(sql.MARK_PROCESSED, (consumer, item.key, now)).rowcount != 1:
            return False
        for query, params in sql.statements(item.effect):
            db.execute(query, params)
        return True
