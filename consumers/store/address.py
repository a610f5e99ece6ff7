"""Where a store lives: the `store_url` setting checked once, and shown without credentials."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

SQLITE = "sqlite"
POSTGRESQL = ("postgresql", "postgres")
EXPECTED = "expected sqlite:///PATH or postgresql://HOST/DATABASE"


class StoreError(Exception):
    """The store cannot be opened; the message says why, never with credentials."""


class StoreMissing(StoreError):
    """A command that only reads found no store where the setting points."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoreAddress:
    kind: Literal["sqlite", "postgresql"]
    url: str  # as configured: may hold a password, so it is never shown

    @property
    def sqlite_path(self) -> Path:
        """`sqlite:///relative.db` or `sqlite:////absolute.db` as a path."""
        return Path(self.url.partition("://")[2].removeprefix("/"))

    @property
    def location(self) -> str:
        """What logs and messages show: the SQLite file, or the URL without user and password."""
        if self.kind == SQLITE:
            return str(self.sqlite_path.absolute())
        scheme, _, rest = self.url.partition("://")
        netloc, slash, path = rest.partition("/")
        return f"{scheme}://{netloc.rpartition('@')[2]}{slash}{path.partition('?')[0]}"


def parse(url: str) -> StoreAddress:
    """The address in `url`; `StoreError` names what is wrong without repeating the URL."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StoreError(f"not a URL with a scheme ({EXPECTED})")
    if scheme == SQLITE:
        if not rest.removeprefix("/"):
            raise StoreError(f"no file path after sqlite:// ({EXPECTED})")
        return StoreAddress("sqlite", url)
    if scheme in POSTGRESQL:
        return StoreAddress("postgresql", url)
    raise StoreError(f"unknown scheme {scheme[:20]!r} ({EXPECTED})")
