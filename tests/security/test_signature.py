"""HMAC signatures: Sinch's vector, algorithms, rotation, constant-time verdicts."""

from __future__ import annotations

import base64
import hmac

import pytest

from relay.edge.auth.signature import SignatureVerifier, signature
from relay.errors import Unauthorized
from tests.security.conftest import (
    VECTOR_BODY,
    VECTOR_NONCE,
    VECTOR_SECRET,
    VECTOR_SIGNATURE,
    VECTOR_TIMESTAMP,
    FixedClock,
    secrets,
)

AT_VECTOR = FixedClock(float(VECTOR_TIMESTAMP))


def vector_headers(**override: str) -> dict[str, str]:
    headers = {
        "x-sinch-webhook-signature": VECTOR_SIGNATURE,
        "x-sinch-webhook-signature-nonce": VECTOR_NONCE,
        "x-sinch-webhook-signature-timestamp": VECTOR_TIMESTAMP,
    }
    return {**headers, **override}


def test_published_sinch_vector_signs_to_the_published_signature() -> None:
    """Our signer reproduces Sinch's known answer byte for byte."""
    assert signature(VECTOR_SECRET, VECTOR_BODY, VECTOR_NONCE, VECTOR_TIMESTAMP) == VECTOR_SIGNATURE


def test_published_sinch_vector_verifies_as_fresh() -> None:
    """The vector passes verification at the moment it was signed."""
    verifier = SignatureVerifier(secrets(VECTOR_SECRET), 300, AT_VECTOR)
    verdict = verifier.verify(vector_headers(), VECTOR_BODY)
    assert verdict.fresh
    assert verdict.expires_at == float(VECTOR_TIMESTAMP) + 300


@pytest.mark.parametrize("name", ["HmacSHA256", "hmacsha256", "HmacSHA384", "HmacSHA512"])
def test_each_accepted_algorithm_verifies(name: str) -> None:
    """The algorithm header selects SHA-256/384/512, case-insensitively."""
    alg = name.lower().removeprefix("hmac")
    digest = hmac.new(
        b"k", VECTOR_BODY + b"." + VECTOR_NONCE.encode() + b"." + VECTOR_TIMESTAMP.encode(), alg
    ).digest()
    headers = vector_headers(
        **{
            "x-sinch-webhook-signature": base64.b64encode(digest).decode(),
            "x-sinch-webhook-signature-algorithm": name,
        }
    )
    assert SignatureVerifier(secrets("k"), 300, AT_VECTOR).verify(headers, VECTOR_BODY).fresh


def test_unknown_algorithm_is_refused() -> None:
    """Only the HMAC-SHA2 family is accepted; anything else is a 401 reason."""
    headers = vector_headers(**{"x-sinch-webhook-signature-algorithm": "HmacMD5"})
    with pytest.raises(Unauthorized, match="bad_algorithm"):
        SignatureVerifier(secrets(VECTOR_SECRET), 300, AT_VECTOR).verify(headers, VECTOR_BODY)


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (VECTOR_BODY + b" ", vector_headers(), "bad_signature"),
        (VECTOR_BODY, vector_headers(**{"x-sinch-webhook-signature-nonce": "X"}), "bad_signature"),
        (VECTOR_BODY, vector_headers(**{"x-sinch-webhook-signature": "%%%"}), "bad_signature"),
        (VECTOR_BODY, {"x-sinch-webhook-signature": VECTOR_SIGNATURE}, "missing_signature"),
    ],
)
def test_tampering_or_missing_headers_is_refused(
    body: bytes, headers: dict[str, str], reason: str
) -> None:
    """One changed byte of body or nonce, a malformed or absent header: all 401."""
    with pytest.raises(Unauthorized, match=reason):
        SignatureVerifier(secrets(VECTOR_SECRET), 300, AT_VECTOR).verify(headers, body)


def test_rotation_accepts_old_and_new_secret() -> None:
    """With two secrets configured, callbacks signed with either verify."""
    verifier = SignatureVerifier(secrets("new-secret", VECTOR_SECRET), 300, AT_VECTOR)
    assert verifier.verify(vector_headers(), VECTOR_BODY).fresh
    new = signature("new-secret", VECTOR_BODY, VECTOR_NONCE, VECTOR_TIMESTAMP)
    headers = vector_headers(**{"x-sinch-webhook-signature": new})
    assert verifier.verify(headers, VECTOR_BODY).fresh


@pytest.mark.parametrize(
    ("offset", "fresh"), [(-300, True), (300, True), (-301, False), (301, False)]
)
def test_timestamp_window_is_inclusive_both_ways(offset: int, fresh: bool) -> None:
    """A signature is fresh within +-tolerance of the relay's clock, stale beyond."""
    clock = FixedClock(float(VECTOR_TIMESTAMP) - offset)
    verdict = SignatureVerifier(secrets(VECTOR_SECRET), 300, clock).verify(
        vector_headers(), VECTOR_BODY
    )
    assert verdict.fresh is fresh


def test_replay_key_is_bound_to_the_signature() -> None:
    """The replay key is the signature itself: unique per body, nonce and timestamp."""
    verdict = SignatureVerifier(secrets(VECTOR_SECRET), 300, AT_VECTOR).verify(
        vector_headers(), VECTOR_BODY
    )
    assert verdict.key == base64.b64decode(VECTOR_SIGNATURE)
