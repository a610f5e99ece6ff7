"""The routing table: which flow (delivery reports or inbound) each Sinch callback type belongs to.

One table drives the HTTP edge (validation, misrouting), the AMQP topology and the
documentation; nothing else in the code base names the seven types.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from relay.config import TopologySettings


class Flow(enum.StrEnum):
    """The two flows of Sinch callbacks (the two channels of its AsyncAPI contract).

    Named `Flow`, not `Channel`: an AMQP channel is something else in this code base.
    """

    DELIVERY_REPORTS = "delivery_reports"
    INBOUND = "inbound"


ROUTES: Mapping[str, Flow] = MappingProxyType(
    {
        "delivery_report_sms": Flow.DELIVERY_REPORTS,
        "delivery_report_mms": Flow.DELIVERY_REPORTS,
        "recipient_delivery_report_sms": Flow.DELIVERY_REPORTS,
        "recipient_delivery_report_mms": Flow.DELIVERY_REPORTS,
        "mo_text": Flow.INBOUND,
        "mo_binary": Flow.INBOUND,
        "mo_media": Flow.INBOUND,
    }
)

# Any type may arrive here: Sinch's own examples point every callback at one URL.
CATCH_ALL_PATH = "/sms"

# The URL path Sinch is told to call for each flow.
FLOW_PATHS: Mapping[Flow, str] = MappingProxyType(
    {
        Flow.DELIVERY_REPORTS: f"{CATCH_ALL_PATH}/delivery-report",
        Flow.INBOUND: f"{CATCH_ALL_PATH}/incoming",
    }
)


def types_of(channel: Flow) -> tuple[str, ...]:
    """The known callback types published on `channel`, in table order."""
    return tuple(t for t, c in ROUTES.items() if c is channel)


# A member read through the class is an enum descriptor call (~900 instructions under
# callgrind); exchange_for runs once a callback (docs/performance.md).
_DELIVERY_REPORTS: Final = Flow.DELIVERY_REPORTS


def exchange_for(names: TopologySettings, flow: Flow) -> str:
    """The exchange name a flow's messages are published to."""
    return names.delivery_reports if flow is _DELIVERY_REPORTS else names.inbound
