"""Every `x-unrouted-reason` the relay sets is the AsyncAPI document's, and no other.

Each reason is produced by the running edge (a body through a fake publisher; a stale
genuine signature on an HMAC route), not copied from relay.contract.reasons, so a reason
the code gains without the document fails here, and so does one the document keeps after
the code stopped setting it.
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson
from pamqp.common import FieldTable

from relay.config import SecuritySettings, Settings
from relay.contract import asyncapi, message, reasons
from relay.edge.app import create_app
from relay.edge.auth import CALLBACK_PATHS
from tests.security.conftest import MO_TEXT, secrets, signed
from tests.support.fakes import FakePublisher, headers_of

_MO: dict[str, Any] = orjson.loads(MO_TEXT)
_DR = {"type": "delivery_report_sms", "batch_id": "b", "statuses": [], "total_message_count": 1}
_STATUS = {"code": 0, "status": "Delivered", "count": 1}
BODIES = (
    b'{"type":"no_such_type"}',
    orjson.dumps({"type": "x" * 256}),
    orjson.dumps({k: v for k, v in _MO.items() if k != "to"}),
    orjson.dumps({**_MO, "to": 46700000000}),
    orjson.dumps({**_DR, "statuses": [1]}),
    orjson.dumps({**_DR, "statuses": [{k: v for k, v in _STATUS.items() if k != "count"}]}),
    orjson.dumps({**_DR, "statuses": [{**_STATUS, "status": 3}]}),
    b'{"type":"mo_text","x":' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"type":"mo_text","x":[' + b"[]," * 10_000 + b"[]]}",
    orjson.dumps(_DR)[:-1] + b',"n":' + b"9" * 5000 + b"}",
)


def _schema() -> dict[str, Any]:
    doc = asyncapi.document(Settings())
    headers = doc["components"]["schemas"]["UnroutedHeaders"]["properties"]
    schema: dict[str, Any] = headers[message.UNROUTED_REASON]
    return schema


async def _published(aiohttp_client: Any, settings: Settings, posts: Any) -> list[FieldTable]:
    publisher = FakePublisher()
    client = await aiohttp_client(create_app(settings, publisher))
    for body, headers in posts:
        assert (await client.post("/sms", data=body, headers=headers)).status == 200
    return [headers_of(m) for m in publisher.published]


async def _produced(aiohttp_client: Any) -> list[str]:
    """The reason of each unrouted message the edge published for the bodies above, and
    for a genuine signature five minutes and a second old."""
    plain = await _published(aiohttp_client, Settings(), ((b, {}) for b in BODIES))
    hmac = Settings(
        security=SecuritySettings(hmac_routes=CALLBACK_PATHS, hmac_secrets=secrets("s"))
    )
    stale = signed("s", MO_TEXT, "n", at=time.time() - 301)
    late = await _published(aiohttp_client, hmac, [(MO_TEXT, stale)])
    return [str(h[message.UNROUTED_REASON]) for h in plain + late]


async def test_every_reason_the_edge_sets_is_documented(aiohttp_client: Any) -> None:
    """Each value matches the header's pattern and its reason is described; together they
    are every reason the document lists."""
    schema, produced = _schema(), await _produced(aiohttp_client)
    assert len(produced) == len(BODIES) + 1
    for value in produced:
        assert re.fullmatch(schema["pattern"], value), value
        assert f"{value.split(':', 1)[0]}" in schema["description"], value
    assert {v.split(":", 1)[0] for v in produced} == set(reasons.UNROUTED_REASONS)


def test_the_pattern_takes_no_reason_the_relay_does_not_set() -> None:
    """A made-up reason, a field reason without its field, a reason with a suffix: refused."""
    pattern = _schema()["pattern"]
    for value in ("bad_json", "missing_field", "missing_field:", "unknown_type:x", "stale"):
        assert re.fullmatch(pattern, value) is None, value
    assert re.fullmatch(pattern, "wrong_kind:statuses[].code")
