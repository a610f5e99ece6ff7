"""Every value of `x-unrouted-reason`: why a callback went to the unrouted exchange.

Stated once here; relay.callback.validation and the edge's signature check set them, the
AsyncAPI document lists them (relay.contract.asyncapi_headers) and `relay_unrouted_total`
counts by them. A reason of `FIELD_REASONS` carries the field it is about after a colon
(`missing_field:recipient`, `wrong_kind:statuses[].code`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

UNKNOWN_TYPE: Final = "unknown_type"
TYPE_TOO_LONG: Final = "type_too_long"
MISSING_FIELD: Final = "missing_field"
WRONG_KIND: Final = "wrong_kind"
NESTING_TOO_DEEP: Final = "nesting_too_deep"
INTEGER_TOO_LONG: Final = "integer_too_long"
TOO_MANY_CONTAINERS: Final = "too_many_containers"
STALE_SIGNATURE: Final = "stale_signature"

FIELD_REASONS: Final = (MISSING_FIELD, WRONG_KIND)

UNROUTED_REASONS: Mapping[str, str] = MappingProxyType(
    {
        UNKNOWN_TYPE: "a `type` the relay has no route for",
        TYPE_TOO_LONG: "a `type` too long for an AMQP routing key",
        MISSING_FIELD: "a known type without a required field",
        WRONG_KIND: "a required field of the wrong JSON kind",
        NESTING_TOO_DEEP: "valid JSON nested deeper than the parsers keep",
        INTEGER_TOO_LONG: "an integer too long to keep exactly",
        TOO_MANY_CONTAINERS: "too many arrays and objects to build: its top level only",
        STALE_SIGNATURE: "a genuine Sinch signature outside its window",
    }
)
"""Each reason and what it means, in the order the AsyncAPI document lists them."""


def pattern() -> str:
    """A regular expression every `x-unrouted-reason` value matches, and nothing else."""
    bare = "|".join(r for r in UNROUTED_REASONS if r not in FIELD_REASONS)
    return f"^(?:{bare}|(?:{'|'.join(FIELD_REASONS)}):.+)$"
