"""The fields each known callback type must carry, and their JSON kinds.

Deliberately light (docs/sinch.md, section 1): required fields and their JSON kind only,
never enum values, number formats or extra fields. Validation checks bodies against this
table; the AsyncAPI document publishes it as each type's schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from relay.contract.routing import ROUTES

_STR = (str,)
_NUM = (int, float)
_CODE = (int, float, str)  # `code` was seen as a string in old Sinch examples
_DICT = (dict,)
_LIST = (list,)

Fields = Mapping[str, tuple[type, ...]]
_MO: Fields = {"id": _STR, "from": _STR, "to": _STR, "body": _STR, "received_at": _STR}
_BATCH: Fields = {"batch_id": _STR, "statuses": _LIST, "total_message_count": _NUM}
_RECIPIENT: Fields = {
    "batch_id": _STR,
    "recipient": _STR,
    "code": _CODE,
    "status": _STR,
    "at": _STR,
}
STATUS_ITEM: Fields = {"code": _CODE, "status": _STR, "count": _NUM}

REQUIRED: Final[Mapping[str, Fields]] = {
    "delivery_report_sms": _BATCH,
    "delivery_report_mms": _BATCH,
    "recipient_delivery_report_sms": _RECIPIENT,
    "recipient_delivery_report_mms": _RECIPIENT,
    "mo_text": _MO,
    "mo_binary": {**_MO, "udh": _STR},
    "mo_media": {**_MO, "body": _DICT},
}
assert REQUIRED.keys() == ROUTES.keys(), "validation and routing tables disagree"
