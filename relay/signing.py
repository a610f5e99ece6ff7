"""Sign a callback exactly as Sinch does (shared/SINCH.md, section 3), for simulators and tests.

signature = base64(HMAC-SHA256(secret, body + "." + nonce + "." + timestamp))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SIGNATURE = "x-sinch-webhook-signature"
NONCE = "x-sinch-webhook-signature-nonce"
TIMESTAMP = "x-sinch-webhook-signature-timestamp"
ALGORITHM = "x-sinch-webhook-signature-algorithm"


def signature(secret: str, body: bytes, nonce: str, timestamp: str) -> str:
    """The base64 HMAC-SHA256 Sinch puts in `x-sinch-webhook-signature`."""
    message = body + b"." + nonce.encode() + b"." + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(
    secret: str, body: bytes, nonce: str | None = None, timestamp: str | None = None
) -> dict[str, str]:
    """The four headers of a signed callback; a fresh nonce and the current time by default."""
    nonce = nonce or secrets.token_hex(13).upper()
    timestamp = timestamp or str(int(time.time()))
    return {
        SIGNATURE: signature(secret, body, nonce, timestamp),
        NONCE: nonce,
        TIMESTAMP: timestamp,
        ALGORITHM: "HmacSHA256",
    }
