"""What the quarantine keeps of a presented credential: enough to re-check it, never it.

Basic: the user name and a salted HMAC-SHA256 of `user:password` (hex). Bearer: the token's
payload (`<expiry>.<random>`, useless without its MAC) and a salted digest of its MAC.
A re-check (`relay quarantine redrive`) finds the configured credential whose digest
under the same salt matches, rebuilds the header from the configuration, and lets the
edge's own checks decide. A fast digest, not a slow KDF: it runs for every refused
request, where a deliberately slow hash would hand forged traffic the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

from pamqp.common import FieldTable

from relay.config import SecuritySettings
from relay.edge.auth.basic import basic_header, basic_payload
from relay.edge.auth.oauth import TokenIssuer, bearer_token

_MAX_USER = 256
_MAX_TOKEN = 256


def keep(authorization: str | None) -> FieldTable | None:
    """The re-checkable remains of an `Authorization` header (None: none was sent)."""
    if authorization is None:
        return None
    salt = secrets.token_bytes(16)
    pair = basic_payload(authorization)
    if pair is not None:
        user = pair.partition(b":")[0][:_MAX_USER].decode("utf-8", "backslashreplace")
        return {"scheme": "basic", "user": user, "salt": salt.hex(), "digest": _hex(salt, pair)}
    token = bearer_token(authorization)
    if token is not None and len(token) <= _MAX_TOKEN and token.count(".") == 2:
        payload, _, mac = token.rpartition(".")
        digest = _hex(salt, mac.encode())
        return {"scheme": "bearer", "payload": payload, "salt": salt.hex(), "digest": digest}
    return {"scheme": "other"}


def presented(
    kept: Mapping[str, Any], security: SecuritySettings, issuer: TokenIssuer | None
) -> Iterator[str]:
    """`Authorization` headers, rebuilt from the configuration, that the kept one was."""
    try:
        salt, digest = bytes.fromhex(str(kept["salt"])), bytes.fromhex(str(kept["digest"]))
    except (KeyError, ValueError):
        return
    if kept.get("scheme") == "basic":
        for pair in security.basic_credentials:
            if hmac.compare_digest(_digest(salt, pair.reveal().encode()), digest):
                yield basic_header(*pair.reveal().split(":", 1))
    payload = kept.get("payload")
    if kept.get("scheme") == "bearer" and issuer is not None and isinstance(payload, str):
        for token in issuer.tokens_for(payload):
            if hmac.compare_digest(_digest(salt, token.rpartition(".")[2].encode()), digest):
                yield f"Bearer {token}"


def _digest(salt: bytes, secret: bytes) -> bytes:
    return hmac.new(salt, secret, hashlib.sha256).digest()


def _hex(salt: bytes, secret: bytes) -> str:
    # Hex, not bytes: pamqp encodes no byte strings into a header table.
    return _digest(salt, secret).hex()
