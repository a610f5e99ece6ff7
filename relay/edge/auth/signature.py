"""Sinch's callback signature (docs/sinch.md, section 3): made, and checked in constant time.

    signature = base64(HMAC-<alg>(utf8(secret), raw_body + "." + nonce + "." + timestamp))

Verification is on the raw bytes, before anything parses them. Several secrets are
accepted at once, so a secret can be rotated without refusing a single callback.
`sign` makes the headers exactly as Sinch does, for the simulator and tests.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import secrets as token_source
import time
from collections.abc import Mapping
from types import MappingProxyType

from relay.config import Secret

# Re-exported: the header names belong to the message contract, which the callback path
# may import (the edge may not be imported there).
from relay.contract.message import ALGORITHM as ALGORITHM
from relay.contract.message import NONCE as NONCE
from relay.contract.message import SIGNATURE as SIGNATURE
from relay.contract.message import TIMESTAMP as TIMESTAMP
from relay.edge.auth.clock import Clock
from relay.errors import Unauthorized

ALGORITHMS: Mapping[str, str] = MappingProxyType(
    {"hmacsha256": "sha256", "hmacsha384": "sha384", "hmacsha512": "sha512"}
)
_MAX_HEADER = 256  # nonce and timestamp are short; a long one is not Sinch's


@dataclasses.dataclass(frozen=True, slots=True)
class Verified:
    """A genuine signature: `key` names this signed callback, `fresh` if within the window."""

    key: bytes
    fresh: bool
    expires_at: float


def signature(secret: str, body: bytes, nonce: str, timestamp: str, alg: str = "sha256") -> str:
    """The base64 signature Sinch sends for these values."""
    return base64.b64encode(_mac(secret.encode(), body, nonce, timestamp, alg)).decode()


def sign(
    secret: str, body: bytes, nonce: str | None = None, timestamp: str | None = None
) -> dict[str, str]:
    """The four headers of a signed callback; a fresh nonce and the current time by default."""
    nonce = nonce or token_source.token_hex(13).upper()
    timestamp = timestamp or str(int(time.time()))
    return {
        SIGNATURE: signature(secret, body, nonce, timestamp),
        NONCE: nonce,
        TIMESTAMP: timestamp,
        ALGORITHM: "HmacSHA256",
    }


class SignatureVerifier:
    def __init__(self, secrets: tuple[Secret, ...], tolerance: float, clock: Clock) -> None:
        self._keys = tuple(s.reveal().encode() for s in secrets)
        self._tolerance = tolerance
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> Verified:
        """The verdict on a signed request; `Unauthorized` if it is not signed by us."""
        given, nonce, timestamp, alg = _signature_headers(headers)
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(_mac(key, body, nonce, timestamp, alg), given)
        if not found:
            raise Unauthorized("bad_signature")
        return self._freshness(given, timestamp)

    def _freshness(self, given: bytes, timestamp: str) -> Verified:
        sent = _unix_seconds(timestamp)
        now = self._clock.now()
        if sent is None:
            return Verified(given, False, now)
        fresh = abs(now - sent) <= self._tolerance
        return Verified(given, fresh, sent + self._tolerance)


def _signature_headers(headers: Mapping[str, str]) -> tuple[bytes, str, str, str]:
    encoded = headers.get(SIGNATURE)
    nonce = headers.get(NONCE)
    timestamp = headers.get(TIMESTAMP)
    if encoded is None or nonce is None or timestamp is None:
        raise Unauthorized("missing_signature")
    if len(nonce) > _MAX_HEADER or len(timestamp) > _MAX_HEADER or len(encoded) > _MAX_HEADER:
        raise Unauthorized("bad_signature")
    alg = ALGORITHMS.get(headers.get(ALGORITHM, "HmacSHA256").strip().lower())
    if alg is None:
        raise Unauthorized("bad_algorithm")
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Unauthorized("bad_signature") from None
    return given, nonce, timestamp, alg


def _mac(key: bytes, body: bytes, nonce: str, timestamp: str, alg: str) -> bytes:
    message = b".".join((body, _raw(nonce), _raw(timestamp)))
    return hmac.new(key, message, alg).digest()


def _raw(header: str) -> bytes:
    # aiohttp decodes header bytes as UTF-8 with surrogateescape: this restores them.
    return header.encode("utf-8", "surrogateescape")


def _unix_seconds(timestamp: str) -> float | None:
    text = timestamp.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return float(int(text))
