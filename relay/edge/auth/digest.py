"""Constant-time matching of a presented secret against several accepted ones."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from relay.config import Secret


def fingerprint(value: bytes) -> bytes:
    """A fixed-length digest, so comparisons leak neither content nor length."""
    return hashlib.sha256(value).digest()


def fingerprints(secrets: Iterable[Secret]) -> tuple[bytes, ...]:
    return tuple(fingerprint(s.reveal().encode()) for s in secrets)


def matches_any(presented: bytes, accepted: tuple[bytes, ...]) -> bool:
    """True if `presented` equals one accepted value; every candidate is always compared."""
    given = fingerprint(presented)
    found = False
    for candidate in accepted:
        found |= hmac.compare_digest(given, candidate)
    return found
