"""Regression corpus: bodies that once broke, or could break, the request path.

Each file in corpus/ goes through `classify` and through the running app with a recording
publisher: a BadRequest/400 publishes nothing, anything else is published exactly once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.callback.validation import classify
from relay.errors import BadRequest
from tests.security.conftest import RelayFactory

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*"))
BODIES = {p.name: p.read_bytes() for p in CORPUS}


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_corpus_case_is_answered_without_5xx(name: str, relay: RelayFactory) -> None:
    """No corpus body crashes classify or makes the app answer 5xx; 4xx means unpublished."""
    body = BODIES[name]
    try:
        classify(body)
        expected = 200
    except BadRequest:
        expected = 400
    client, publisher = await relay()
    response = await client.post("/sms", data=body)
    assert response.status == expected
    assert len(publisher.published) == (1 if expected == 200 else 0)
