"""Who is calling: the peer address, or the client a trusted proxy names in X-Forwarded-For;
and whether that address may call at all."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from relay.config import ConfigError, SecuritySettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def networks(key: str, cidrs: Iterable[str]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)
    except ValueError as exc:
        raise ConfigError(f"invalid setting security.{key}: {exc}") from None


def address(text: str | None) -> Address | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def within(addr: Address | None, nets: tuple[Network, ...]) -> bool:
    return addr is not None and any(addr in net for net in nets)


def client_address(
    peer: str | None, forwarded_for: list[str], proxies: tuple[Network, ...]
) -> Address | None:
    """The peer, unless it is a trusted proxy: then the right-most untrusted XFF hop."""
    addr = address(peer)
    if not within(addr, proxies):
        return addr
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        addr = address(hop)
        if not within(addr, proxies):
            return addr
    return addr


def handler_args(settings: SecuritySettings) -> dict[str, Any]:
    """`AppRunner` keywords: header count and sizes, and the idle/slow-header timeout.

    aiohttp arms its keep-alive timer when a connection opens and re-arms it only after a
    response, closing the connection if no complete request head has arrived by then: so
    `idle_timeout_seconds` also bounds how long a client may trickle its headers.
    """
    return {
        "max_headers": settings.max_header_count,
        "max_field_size": settings.max_header_bytes,
        "max_line_size": settings.max_request_line_bytes,
        "keepalive_timeout": settings.idle_timeout_seconds,
    }
