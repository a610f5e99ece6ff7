"""OAuth 2.0 as Sinch uses it for callbacks: a client-credentials token endpoint run by
the relay, and the short-lived bearer tokens it issues, accepted on callback routes.

Tokens are stateless: `<expiry>.<random>.<mac>`, MAC'd with a configured key, so every
replica and every restart accepts them. The first key signs, all keys verify (rotation).
A token is accepted `grace` seconds past its expiry, so a token Sinch cached right up to
`expires_in` never turns a callback into a 401 (which Sinch would not retry).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs

from relay.config import Secret
from relay.edge.auth.basic import CredentialSet, basic_payload
from relay.edge.auth.clock import Clock

_MAX_TOKEN = 256
MAX_FORM = 4096  # bytes: a client-credentials form is a few dozen
_CONTEXT = b"sinch-relay-oauth-v1."
GRANTS = frozenset({"client_credentials", "password", ""})


class TokenIssuer:
    def __init__(self, keys: tuple[Secret, ...], ttl: int, grace: int, clock: Clock) -> None:
        self._keys = tuple(k.reveal().encode() for k in keys)
        self.ttl = ttl
        self._grace = grace
        self._clock = clock

    def issue(self) -> str:
        expiry = int(self._clock.now()) + self.ttl
        payload = f"{expiry}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{_mac(self._keys[0], payload)}"

    def tokens_for(self, payload: str) -> tuple[str, ...]:
        """The token each key would make of `payload` (the quarantine's re-check)."""
        return tuple(f"{payload}.{_mac(key, payload)}" for key in self._keys)

    def accepts(self, token: str) -> bool:
        """True for a token this relay (or a replica sharing a key) issued, still valid."""
        if len(token) > _MAX_TOKEN or token.count(".") != 2:
            return False
        payload, _, mac = token.rpartition(".")
        valid = False
        for key in self._keys:
            valid |= hmac.compare_digest(_mac(key, payload).encode(), mac.encode())
        expiry = payload.partition(".")[0]
        return valid and expiry.isdigit() and int(expiry) + self._grace >= self._clock.now()


def bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def client_pair(authorization: str | None, form: bytes) -> tuple[bytes | None, str]:
    """The presented `id:secret` (Basic header, else form fields) and the grant type."""
    fields = _form(form)
    grant = fields.get("grant_type", "")
    pair = basic_payload(authorization)
    if pair is None:
        client = fields.get("client_id") or fields.get("username")
        secret = fields.get("client_secret") or fields.get("password")
        if client is not None and secret is not None:
            pair = f"{client}:{secret}".encode()
    return pair, grant


def known_client(clients: CredentialSet, pair: bytes | None) -> bool:
    return pair is not None and clients.accepts(pair)


def _form(body: bytes) -> dict[str, str]:
    if len(body) > MAX_FORM:
        return {}
    text = body.decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(text, max_num_fields=16).items()}


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, _CONTEXT + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
