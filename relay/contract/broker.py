"""Where the relay publishes, as a consumer would connect: host, port, vhost, no password.

Read from the configured AMQP URL the way aiormq reads it (an empty path or `/` is the
default vhost `/`; otherwise the percent-decoded path after the first slash), so the
AsyncAPI document names the broker the relay actually uses.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from relay.config import Secret

_DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671}


class Broker(NamedTuple):
    """One broker address without its credentials."""

    scheme: str
    host: str
    port: int
    vhost: str


def broker(url: Secret) -> Broker:
    """The address in `url`; user and password are dropped, never returned."""
    parts = urlsplit(url.reveal())
    scheme = parts.scheme or "amqp"
    port = parts.port or _DEFAULT_PORTS.get(scheme, 5672)
    return Broker(scheme, parts.hostname or "localhost", port, _vhost(parts.path))


def _vhost(path: str) -> str:
    return "/" if path in ("", "/") else unquote(path[1:])
