"""Where workers keep their results: a `Store` protocol with SQLite and PostgreSQL behind it."""

from __future__ import annotations

from consumers.store.protocol import OptOut, Store


def open_store(url: str, *, sqlite_synchronous: str = "FULL") -> Store:
    """A store for `url`: `sqlite:///relative.db`, `sqlite:////abs.db` or `postgresql://...`."""
    if url.startswith("sqlite://"):
        from consumers.store.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite://").removeprefix("/"), sqlite_synchronous)
    if url.startswith(("postgresql://", "postgres://")):
        from consumers.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError("store URL must start with sqlite:// or postgresql://")


__all__ = ["OptOut", "Store", "open_store"]
