"""Where workers keep their results: a `Store` protocol with SQLite and PostgreSQL behind it."""

from __future__ import annotations

from consumers.store.address import StoreAddress, StoreError, StoreMissing, parse
from consumers.store.protocol import OptOut, OptState, Store


def open_store(url: str, *, sqlite_synchronous: str = "FULL", create: bool = True) -> Store:
    """A store for `url` (see `consumers.store.address`); `create=False` never creates one.

    Without `create`, opening a store that does not exist yet raises `StoreMissing`.
    """
    address = parse(url)
    if address.kind == "sqlite":
        from consumers.store.sqlite import SqliteStore

        return SqliteStore(str(address.sqlite_path), sqlite_synchronous, create=create)
    from consumers.store.postgres import PostgresStore

    return PostgresStore(url, create=create)


__all__ = [
    "OptOut",
    "OptState",
    "Store",
    "StoreAddress",
    "StoreError",
    "StoreMissing",
    "open_store",
    "parse",
]
