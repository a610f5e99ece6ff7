"""Valid JSON that the fast parsers refuse (nesting past their depth, integers of thousands
of digits) is relayed unrouted with a reason, never answered 400 (which Sinch drops)."""

from __future__ import annotations

import io

import pytest

from tests.security.conftest import RelayFactory
from tests.support.fakes import headers_of

DEEP = b'{"type":"mo_text","x":' + b"[" * 5000 + b"]" * 5000 + b"}"
LIMIT_DEEP = b'{"type":"mo_text","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
LONG_INT = b'{"type":"delivery_report_sms","batch_id":"b","statuses":[],"total_message_count":'


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DEEP, "nesting_too_deep"),
        (LIMIT_DEEP, "nesting_too_deep"),
        (LONG_INT + b"9" * 5000 + b"}", "integer_too_long"),
    ],
)
async def test_valid_json_beyond_parser_limits_goes_unrouted(
    relay: RelayFactory, body: bytes, reason: str
) -> None:
    """200, published once to the unrouted exchange, the body byte for byte."""
    client, publisher = await relay()
    response = await client.post("/sms", data=io.BytesIO(body))
    assert response.status == 200
    [message] = publisher.published
    assert (message.exchange, message.body) == ("sinch.sms.unrouted", body)
    assert headers_of(message)["x-unrouted-reason"] == reason


async def test_unbalanced_deep_nesting_is_still_400(relay: RelayFactory) -> None:
    """Depth buys no pass: a deep body that is not JSON is refused, nothing published."""
    client, publisher = await relay()
    body = b'{"type":"mo_text","x":' + b"[" * 5000 + b"]" * 4000 + b"}"
    assert (await client.post("/sms", data=body)).status == 400
    assert publisher.published == []
