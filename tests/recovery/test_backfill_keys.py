"""A list object from Sinch becomes the message its callback would have been: same key."""

from __future__ import annotations

import orjson
import pytest

from relay.callback.ids import IdSource
from relay.callback.validation import classify
from relay.contract.routing import ROUTES, exchange_for
from relay.recovery.backfill import as_callback
from tests.names import unique_topology
from tests.payloads import BODIES

# Everything the list APIs return: per-recipient reports and the three inbound types.
LISTED = [t for t in ROUTES if not t.startswith("delivery_report")]
OPTIONAL = ("operator_id", "sent_at", "client_reference", "applied_originator", "encoding")


def as_listed(callback: bytes) -> dict[str, object]:
    """The callback's object as a list API might give it: keys reordered, optionals gone."""
    fields = orjson.loads(callback)
    return {k: fields[k] for k in sorted(fields, reverse=True) if k not in OPTIONAL}


@pytest.mark.parametrize("type_", LISTED)
def test_a_listed_object_carries_its_callbacks_dedup_key_exchange_and_type(type_: str) -> None:
    """Other bytes, same x-dedup-key; its type's exchange and routing key; marked backfill."""
    names = unique_topology()
    item = as_listed(BODIES[type_])
    outgoing = as_callback(item, names, IdSource())
    assert outgoing is not None
    assert outgoing.body != BODIES[type_]
    assert outgoing.headers["x-dedup-key"] == classify(BODIES[type_]).dedup_key
    assert (outgoing.exchange, outgoing.routing_key) == (exchange_for(names, ROUTES[type_]), type_)
    assert outgoing.headers["x-relay-source"] == "backfill"


def test_an_object_without_a_type_is_not_a_callback() -> None:
    """Nothing to route it by: skipped (counted), never published."""
    assert as_callback({"id": "x"}, unique_topology(), IdSource()) is None
