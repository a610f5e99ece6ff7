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
        raise ConfigError(f"invalid setting {key}: {exc}") from None


def address(text: str | None) -> Address | None:
    """The address in `text`, in the forms proxies write: `192.0.2.7`, `192.0.2.7:4711`,
    `2001:db8::1`, `[2001:db8::1]:4711`, `::ffff:192.0.2.7` (taken as the IPv4 it maps)."""
    if not text:
        return None
    try:
        addr = ipaddress.ip_address(_without_port(text.strip()))
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)
    return mapped if mapped is not None else addr


def _without_port(text: str) -> str:
    if text.startswith("["):  # [v6] or [v6]:port
        return text[1 : text.find("]")] if "]" in text else text
    host, colon, port = text.rpartition(":")
    if colon and "." in host and ":" not in host and port.isdigit():  # v4:port
        return host
    return text


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
        # Encoded bodies are refused (relay.edge.body.refuse_encoded): never inflate them.
        "auto_decompress": False,
    }
