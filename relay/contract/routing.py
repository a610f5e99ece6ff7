"""The routing table: which channel each known Sinch callback type belongs to.

One table drives the HTTP edge (validation, misrouting), the AMQP topology and the
documentation; nothing else in the code base names the seven types.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class Channel(enum.StrEnum):
    """The two channels of the Sinch AsyncAPI contract."""

    DELIVERY_REPORTS = "delivery_reports"
    INBOUND = "inbound"


ROUTES: Mapping[str, Channel] = MappingProxyType(
    {
        "delivery_report_sms": Channel.DELIVERY_REPORTS,
        "delivery_report_mms": Channel.DELIVERY_REPORTS,
        "recipient_delivery_report_sms": Channel.DELIVERY_REPORTS,
        "recipient_delivery_report_mms": Channel.DELIVERY_REPORTS,
        "mo_text": Channel.INBOUND,
        "mo_binary": Channel.INBOUND,
        "mo_media": Channel.INBOUND,
    }
)

# The URL path Sinch is told to call for each channel.
CHANNEL_PATHS: Mapping[Channel, str] = MappingProxyType(
    {
        Channel.DELIVERY_REPORTS: "/sms/delivery-report",
        Channel.INBOUND: "/sms/incoming",
    }
)


def types_of(channel: Channel) -> tuple[str, ...]:
    """The known callback types published on `channel`, in table order."""
    return tuple(t for t, c in ROUTES.items() if c is channel)
