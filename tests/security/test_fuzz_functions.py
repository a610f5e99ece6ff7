"""Property-based fuzzing of the request path's pure functions (validation, auth, routing).

These run >= 100,000 generated inputs in the default test run (a few tens of seconds on two
cores); RELAY_FUZZ_SCALE=10 multiplies every budget for a longer, opt-in campaign.
"""

from __future__ import annotations

import base64
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.callback.validation import Event, classify
from relay.contract.fields import REQUIRED
from relay.contract.routing import ROUTES
from relay.edge.auth.basic import CredentialSet, basic_payload
from relay.edge.auth.network import address, client_address, networks
from relay.edge.auth.oauth import TokenIssuer, bearer_token, client_pair
from relay.edge.auth.signature import SignatureVerifier
from relay.errors import BadRequest, Unauthorized
from tests.security.conftest import (
    VECTOR_NONCE,
    VECTOR_SECRET,
    VECTOR_SIGNATURE,
    FixedClock,
    secrets,
)
from tests.security.mutator import header_values, mutated_bodies
from tests.security.strategies import ADDRESSES, BODIES, HEADER_TEXT

SCALE = float(os.environ.get("RELAY_FUZZ_SCALE", "1"))
# Hypothesis examples (structured, shrinking) per property; the mutation loops below add
# the bulk: together well over 100,000 generated inputs in the default run.
BUDGETS = {"classify": 2_000, "signature": 1_500, "credentials": 1_500, "address": 1_500}
MUTATION_INPUTS = {"classify": 70_000, "signature": 20_000, "credentials": 10_000}
assert sum(BUDGETS.values()) + sum(MUTATION_INPUTS.values()) >= 100_000


def budget(name: str) -> settings:
    return settings(
        max_examples=int(BUDGETS[name] * SCALE),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


class Count:
    def __init__(self) -> None:
        self.n = 0


def test_classify_never_fails_except_bad_request() -> None:
    """Any body yields a routable Event or a BadRequest: no crash, no other error."""
    seen = Count()

    @budget("classify")
    @given(BODIES)
    def run(body: bytes) -> None:
        seen.n += 1
        try:
            event = classify(body)
        except BadRequest:
            return
        assert isinstance(event, Event)
        assert event.flow is ROUTES.get(event.type)
        assert event.unrouted_reason is not None or event.type in REQUIRED
        assert len(event.dedup_key) == 64

    run()
    assert seen.n >= int(BUDGETS["classify"] * SCALE)


VERIFIER = SignatureVerifier(secrets("fuzz-secret", "old-secret"), 300, FixedClock(1736760161))
VECTOR_VERIFIER = SignatureVerifier(secrets(VECTOR_SECRET), 300, FixedClock(1736760161))
SIG_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "x-sinch-webhook-signature": HEADER_TEXT
        | st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
        "x-sinch-webhook-signature-nonce": HEADER_TEXT,
        "x-sinch-webhook-signature-timestamp": HEADER_TEXT,
        "x-sinch-webhook-signature-algorithm": HEADER_TEXT,
    },
)


def test_signature_check_only_answers_verified_or_unauthorized() -> None:
    """Random signature headers never verify and never raise anything but Unauthorized."""
    seen = Count()

    @budget("signature")
    @given(SIG_HEADERS, st.binary(max_size=256))
    def run(headers: dict[str, str], body: bytes) -> None:
        seen.n += 1
        try:
            VERIFIER.verify(headers, body)
        except Unauthorized:
            return
        raise AssertionError("a random signature verified")

    run()
    assert seen.n >= int(BUDGETS["signature"] * SCALE)


CREDENTIALS = CredentialSet(secrets("sinch:pw-1", "sinch:pw-2"))
ISSUER = TokenIssuer(secrets("token-key"), 900, 300, FixedClock(1e9))


def test_credential_parsers_never_crash_nor_accept_garbage() -> None:
    """Basic, Bearer and token-endpoint parsing survive any header and form."""
    seen = Count()

    @budget("credentials")
    @given(
        HEADER_TEXT | st.just("Basic ").map(lambda p: p + "c2luY2g6cHctMQ=="),
        st.binary(max_size=128),
    )
    def run(header: str, form: bytes) -> None:
        seen.n += 1
        pair = basic_payload(header)
        accepted = pair is not None and CREDENTIALS.accepts(pair)
        assert accepted == (pair in (b"sinch:pw-1", b"sinch:pw-2"))
        token = bearer_token(header)
        assert token is None or not ISSUER.accepts(token)
        client_pair(header, form)

    run()
    assert seen.n >= int(BUDGETS["credentials"] * SCALE)


PROXIES = networks("trusted_proxies", ["127.0.0.0/8", "10.0.0.0/8"])


def test_client_address_is_the_peer_unless_a_trusted_proxy_speaks() -> None:
    """Forwarded-For is parsed without crashing and only believed from a trusted peer."""
    seen = Count()

    @budget("address")
    @given(ADDRESSES, st.lists(st.lists(ADDRESSES, max_size=4).map(", ".join), max_size=3))
    def run(peer: str, forwarded: list[str]) -> None:
        seen.n += 1
        client = client_address(peer, forwarded, PROXIES)
        peer_addr = address(peer)
        if peer_addr is None or not any(peer_addr in n for n in PROXIES):
            assert client == peer_addr

    run()
    assert seen.n >= int(BUDGETS["address"] * SCALE)


def _classify_or_bad_request(body: bytes) -> None:
    try:
        event = classify(body)
    except BadRequest:
        return
    assert event.flow is ROUTES.get(event.type)
    assert event.unrouted_reason is not None or event.type in REQUIRED


def test_mutated_bodies_classify_or_bad_request() -> None:
    """70,000 mutated real callbacks: every one is an Event or a BadRequest."""
    n = int(MUTATION_INPUTS["classify"] * SCALE)
    count = 0
    for body in mutated_bodies(seed=5, count=n):
        _classify_or_bad_request(body)
        count += 1
    assert count == n


def test_mutated_signed_requests_never_verify() -> None:
    """20,000 mutations of a validly signed callback: none verifies, none crashes."""
    n = int(MUTATION_INPUTS["signature"] * SCALE)
    values = header_values(seed=7, count=n)
    refused = 0
    for body in mutated_bodies(seed=11, count=n):
        headers = {
            "x-sinch-webhook-signature": VECTOR_SIGNATURE,
            "x-sinch-webhook-signature-nonce": VECTOR_NONCE,
            "x-sinch-webhook-signature-timestamp": next(values),
        }
        try:
            VECTOR_VERIFIER.verify(headers, body)
        except Unauthorized:
            refused += 1
    assert refused == n


def test_mutated_credentials_never_accepted() -> None:
    """10,000 header values through Basic, Bearer and token-endpoint parsing."""
    n = int(MUTATION_INPUTS["credentials"] * SCALE)
    forms = mutated_bodies(seed=13, count=n)
    accepted = 0
    for header in header_values(seed=17, count=n):
        pair = basic_payload(header)
        accepted += pair is not None and CREDENTIALS.accepts(pair) and pair != b"sinch:pw-1"
        token = bearer_token(header)
        accepted += token is not None and ISSUER.accepts(token)
        client_pair(header, next(forms))
    assert accepted == 0
