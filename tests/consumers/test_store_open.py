"""Opening a store: where it is (shown without credentials), and never creating one to read."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
import pytest

from consumers.store import StoreError, StoreMissing, open_store, parse
from consumers.store.postgres import PostgresStore


def test_the_location_shown_has_no_credentials() -> None:
    """Logs and messages show the SQLite file's absolute path, or host, port and database."""
    url = "postgresql://app:s3cret@db.internal:6432/sinch?sslmode=require&password=x"
    assert parse(url).location == "postgresql://db.internal:6432/sinch"
    assert parse("sqlite:////var/lib/s.db").location == "/var/lib/s.db"
    assert parse("sqlite:///rel.db").location == str(Path("rel.db").absolute())


@pytest.mark.parametrize("url", ["mysql://u:pw@h/db", "u:pw@h/db", "sqlite://", ""])
def test_a_url_that_names_no_store_is_refused_without_echoing_it(url: str) -> None:
    """Unknown scheme, no scheme, no path: `StoreError` that does not repeat the password."""
    with pytest.raises(StoreError) as refused:
        parse(url)
    assert "pw" not in str(refused.value)


async def test_reading_a_missing_sqlite_store_creates_nothing(tmp_path: Path) -> None:
    """`create=False` on a path with no file: `StoreMissing`, and still no file."""
    store = open_store(f"sqlite:///{tmp_path / 'absent.sqlite3'}", create=False)
    with pytest.raises(StoreMissing, match=r"no store at .*absent\.sqlite3"):
        await store.open()
    assert os.listdir(tmp_path) == []


async def test_reading_an_empty_postgres_database_creates_no_tables(postgres_url: str) -> None:
    """`create=False` where no worker made the tables: `StoreMissing`; the schema stays empty."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        with pytest.raises(StoreMissing, match="no store at postgresql://"):
            await PostgresStore(postgres_url, schema=schema, create=False).open()
        tables = await admin.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema
        )
        assert tables == 0
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
