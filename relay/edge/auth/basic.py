"""HTTP Basic credentials, several pairs at once (rotation), compared in constant time."""

from __future__ import annotations

import base64
import binascii

from relay.config import Secret
from relay.edge.auth.digest import fingerprints, matches_any

# aiohttp already bounds every header by security.max_header_bytes; start-up refuses a
# configured pair that would not fit it (`fits_header`), so no shorter cap applies here.
_MAX_HEADER = 64 * 1024


def basic_payload(authorization: str | None) -> bytes | None:
    """The decoded `user:password` bytes of a Basic header, or None if it is not one."""
    if authorization is None or len(authorization) > _MAX_HEADER:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def basic_header(user: str, password: str) -> str:
    """The `Authorization` value a client sends for this pair."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def fits_header(pair: str, max_header_bytes: int) -> bool:
    """Whether a client can send `pair` as an Authorization header within the limit."""
    return len(basic_header(*pair.split(":", 1)).encode()) <= max_header_bytes


class CredentialSet:
    """Accepted `user:password` pairs; only their digests are kept."""

    def __init__(self, pairs: tuple[Secret, ...]) -> None:
        self._digests = fingerprints(pairs)

    def __bool__(self) -> bool:
        return bool(self._digests)

    def accepts(self, pair: bytes) -> bool:
        return matches_any(pair, self._digests)
