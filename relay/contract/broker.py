"""The broker as a consumer meets it: its address without the password, and its refusals.

`broker` reads the configured AMQP URL the way aiormq reads it (an empty path or `/` is the
default vhost `/`; otherwise the percent-decoded path after the first slash), so the
AsyncAPI document names the broker the relay actually uses. `connect_error` words a failed
connection attempt the same way for the relay and the consumers.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from aiormq.exceptions import (
    ChannelClosed,
    ConnectionClosed,
    InvalidFrameError,
    ProbableAuthenticationError,
)

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


def connect_error(exc: BaseException) -> str:
    """Why a connection attempt failed, in one line: the broker's own words when it sent any.

    Relay and consumers log this on every failed attempt. Only the broker's reply text, the
    socket's error text or a class name comes out, never `str(exc)` of an unknown error
    (some embed the URL, credentials included).
    """
    reply = _broker_reply(exc)
    if reply is None and isinstance(exc, TimeoutError):
        reply = "no answer from the broker within the connect timeout"
    if reply is None and isinstance(exc, ConnectionError) and _errno_and_text(exc.args):
        reply = str(exc.args[1])  # aiormq re-raises the socket's OSError as (errno, text)
    return " ".join((reply or exc.__class__.__name__).split())[:300]


def _broker_reply(exc: BaseException) -> str | None:
    """The reply text of the Close frame the broker answered with, if it sent one.

    aiormq keeps it as the last argument of `ProbableAuthenticationError` (a 403 at login),
    `ConnectionClosed` and `ChannelClosed`; but a Close answering Connection.Open (unknown or
    forbidden vhost) becomes an `InvalidFrameError` whose text names only the frame's class.
    """
    if isinstance(exc, ProbableAuthenticationError | ConnectionClosed | ChannelClosed):
        return str(exc.args[-1]) if exc.args else None
    if isinstance(exc, InvalidFrameError):
        return _close_in_raising_frame(exc)
    return None


def _close_in_raising_frame(exc: BaseException) -> str | None:
    """The Connection.Close still held by the function that raised `exc` (aiormq's `_rpc`)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    for value in tb.tb_frame.f_locals.values() if tb is not None else ():
        text = getattr(value, "reply_text", None)
        if getattr(value, "name", None) == "Connection.Close" and isinstance(text, str):
            return text
    return None


def _errno_and_text(args: tuple[object, ...]) -> bool:
    return len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str)
