"""The wire bytes of one publish's content: header frame and body frames.

pamqp encodes a content header by walking all fourteen properties through a generic,
type-dispatching encoder, and the relay first had to build pamqp's `Basic.Properties`
for it: a noticeable share of a request's instructions (docs/performance.md). The relay
sets the same few properties on every message (`relay.callback.envelope.Outgoing`): constant
content type, delivery mode and app id; ids, a timestamp, a type and a header table of
strings and booleans. Those are encoded here in wire order, straight through. Anything
else (another value type, an over-long name) goes to pamqp, and the tests check that
both produce the same bytes for whatever an `Outgoing` can hold.

Each Python-level step costs hundreds of instructions (a `struct` pack about 700), so
what repeats is cached or packed together: the header frame's head with the payload's
fixed start, pieces that always sit side by side, header names in pamqp's order, and
the pieces land in the caller's list, which the batcher joins once per tick.
"""

from __future__ import annotations

import struct
from typing import Any

from pamqp.body import ContentBody
from pamqp.commands import Basic
from pamqp.exceptions import PAMQPException
from pamqp.frame import marshal
from pamqp.header import ContentHeader

from relay.callback.envelope import Outgoing
from relay.contract.message import APP_ID, CONTENT_TYPE, PERSISTENT
from relay.errors import Unencodable

_FRAME_HEADER = struct.Struct(">BHI")  # frame type, channel, payload size
# A content header frame's head with the fixed start of its payload: frame type,
# channel, payload size; class id, weight (0), body size, property flags.
_HEADER_HEAD = struct.Struct(">BHIHHQH")
_HEADER_FIXED = 14  # class id .. property flags
# The header frame's end octet, then the body frame's head.
_END_THEN_HEAD = struct.Struct(">BBHI")
_HEADER_FRAME, _BODY_FRAME = 2, 3
_FRAME_END_OCTET = 0xCE
_FRAME_END = bytes((_FRAME_END_OCTET,))
_BASIC = Basic.frame_id
_LONG = struct.Struct(">I")
_TIMESTAMP = struct.Struct(">Q")
_LENGTH_OCTET = tuple(bytes((n,)) for n in range(256))  # a shortstr's length prefix

# Property flag bits, AMQP 0-9-1 Basic class, in wire order.
_CONTENT_TYPE, _HEADERS, _DELIVERY_MODE = 1 << 15, 1 << 13, 1 << 12
_CORRELATION_ID, _MESSAGE_ID, _TIMESTAMP_SET, _TYPE, _APP_ID = (
    1 << 10,
    1 << 7,
    1 << 6,
    1 << 5,
    1 << 3,
)
_ALWAYS = _CONTENT_TYPE | _HEADERS | _DELIVERY_MODE | _TIMESTAMP_SET | _APP_ID


class _Unsupported(Exception):
    """A value the direct encoder leaves to pamqp."""


def content_frames(message: Outgoing, channel: int, max_size: int) -> bytes:
    """The content header frame and body frame(s) of `message`, ready for the socket.

    `Unencodable` if a value cannot be put on the wire at all.
    """
    out: list[bytes] = []
    add_content_frames(out, message, channel, max_size)
    return b"".join(out)


def add_content_frames(out: list[bytes], message: Outgoing, channel: int, max_size: int) -> None:
    """`content_frames`, appended to `out` as pieces: the batcher joins a tick's once.

    On `Unencodable`, `out` is as it was.
    """
    body = message.body
    try:
        flags, properties = _properties(message)
        # The header frame's head and the fixed start of its payload in one pack.
        size = _HEADER_FIXED + len(properties)
        out.append(_HEADER_HEAD.pack(_HEADER_FRAME, channel, size, _BASIC, 0, len(body), flags))
    except _Unsupported:
        properties = _pamqp_header(message)
        out.append(_FRAME_HEADER.pack(_HEADER_FRAME, channel, len(properties)))
    except (UnicodeError, ValueError, TypeError, struct.error) as exc:
        raise Unencodable(f"message header not encodable: {exc.__class__.__name__}") from exc
    out.append(properties)
    if 0 < len(body) <= max_size:  # a callback fits one body frame: no slicing
        out.append(_END_THEN_HEAD.pack(_FRAME_END_OCTET, _BODY_FRAME, channel, len(body)))
        out.append(body)
        out.append(_FRAME_END)
        return
    out.append(_FRAME_END)
    for start in range(0, len(body), max_size):
        chunk = body[start : start + max_size]
        out += (_FRAME_HEADER.pack(_BODY_FRAME, channel, len(chunk)), chunk, _FRAME_END)


def _pamqp_header(message: Outgoing) -> bytes:
    try:
        return ContentHeader(properties=message.properties, body_size=len(message.body)).marshal()
    except (UnicodeError, ValueError, TypeError, struct.error, PAMQPException) as exc:
        raise Unencodable(f"message header not encodable: {exc.__class__.__name__}") from exc


def pamqp_content_frames(message: Outgoing, channel: int, max_size: int) -> bytes:
    """The same bytes through pamqp alone: the reference the tests compare against."""
    body = message.body
    frames: list[Any] = [ContentHeader(properties=message.properties, body_size=len(body))]
    frames += [ContentBody(body[i : i + max_size]) for i in range(0, len(body), max_size)]
    return b"".join(marshal(frame, channel) for frame in frames)


def _properties(message: Outgoing) -> tuple[int, bytes]:
    """The property flags, and each property that is set, in wire order.

    One flat list and one join: pieces that always sit side by side (the delivery mode
    and the correlation id's length, the type and the app id) are cached as one, and
    the two ids are encoded inline (no call each).
    """
    flags = _ALWAYS
    parts = [_CONTENT_TYPE_VALUE]
    _table(message.headers, parts)
    value = message.correlation_id
    if value:  # pamqp leaves out empty strings as it does None
        if value.__class__ is not str:
            raise _Unsupported("shortstr")
        raw = value.encode()
        if len(raw) > 255:
            raise _Unsupported("shortstr length")  # pamqp raises the proper error
        flags |= _CORRELATION_ID
        parts.append(_MODE_THEN_LENGTH[len(raw)])
        parts.append(raw)
    else:
        parts.append(_DELIVERY_MODE_VALUE)
    value = message.message_id
    if value:
        if value.__class__ is not str:
            raise _Unsupported("shortstr")
        raw = value.encode()
        if len(raw) > 255:
            raise _Unsupported("shortstr length")
        flags |= _MESSAGE_ID
        parts.append(_LENGTH_OCTET[len(raw)])
        parts.append(raw)
    timestamp = message.timestamp
    if getattr(timestamp, "tzinfo", None) is None:
        raise _Unsupported("timestamp")  # naive datetimes and struct_time: pamqp's rules
    parts.append(_TIMESTAMP.pack(int(timestamp.timestamp())))
    message_type = message.message_type
    if message_type:
        flags |= _TYPE
        parts.append(_TYPE_TAILS.get(message_type) or _type_tail(message_type))
    else:
        parts.append(_APP_ID_VALUE)
    return flags, b"".join(parts)


def _short_raw(value: Any) -> bytes:
    """A shortstr's bytes, without its length octet."""
    if value.__class__ is not str:
        raise _Unsupported("shortstr")
    raw: bytes = value.encode()
    if len(raw) > 255:
        raise _Unsupported("shortstr length")  # pamqp raises the proper error
    return raw


def _shortstr(value: Any) -> bytes:
    raw = _short_raw(value)
    return _LENGTH_OCTET[len(raw)] + raw


def _table(table: Any, parts: list[bytes]) -> None:
    """The header table, appended to `parts`: its length, then each field, sorted."""
    if table.__class__ is not dict:
        raise _Unsupported("table")
    at = len(parts)
    parts.append(b"")  # the table's length, once its fields are in
    keys = _ORDERS.get(tuple(table))  # the relay builds the same few key sequences
    for key in keys if keys is not None else _order(table):  # pamqp's order: same bytes
        value = table[key]
        if value.__class__ is str:  # nearly every header value: no call
            raw = value.encode()
            # Name, 'S' and length in one cached piece: most values have a fixed length.
            parts.append(_STRING_PREFIXES.get((key, len(raw))) or _string_prefix(key, len(raw)))
            parts.append(raw)
        elif value.__class__ is bool:
            parts.append(_FIELD_NAMES.get(key) or _field_name(key))
            parts.append(b"t\x01" if value else b"t\x00")
        else:
            raise _Unsupported("table value")
    size = len(b"".join(parts[at + 1 :]))
    parts[at] = _TABLE_SIZES[size] if size < _SMALL_TABLE else _LONG.pack(size)


def _order(table: dict[str, Any]) -> list[str]:
    keys = sorted(table)
    if len(_ORDERS) < _MAX_CACHED:
        _ORDERS[tuple(table)] = keys
    return keys


def _string_prefix(key: Any, size: int) -> bytes:
    prefix = (_FIELD_NAMES.get(key) or _field_name(key)) + b"S" + _LONG.pack(size)
    if len(_STRING_PREFIXES) < _MAX_CACHED:
        _STRING_PREFIXES[key, size] = prefix
    return prefix


def _field_name(key: Any) -> bytes:
    name = _shortstr(key)
    if len(name) > 129:
        raise _Unsupported("field name length")  # pamqp truncates it, with a warning
    return _remember(_FIELD_NAMES, key, name)


def _type_tail(value: Any) -> bytes:
    return _remember(_TYPE_TAILS, value, _shortstr(value) + _APP_ID_VALUE)


def _remember(cache: dict[str, bytes], key: str, encoded: bytes) -> bytes:
    if len(cache) < _MAX_CACHED:  # bounded: only the relay's own few dozen names recur
        cache[key] = encoded
    return encoded


_CONTENT_TYPE_VALUE = _shortstr(CONTENT_TYPE)
_APP_ID_VALUE = _shortstr(APP_ID)
_DELIVERY_MODE_VALUE = bytes((PERSISTENT,))
_MODE_THEN_LENGTH = tuple(_DELIVERY_MODE_VALUE + octet for octet in _LENGTH_OCTET)
# Encoded header names, and message types followed by the app id: the same few dozen
# on every message.
_FIELD_NAMES: dict[str, bytes] = {}
_TYPE_TAILS: dict[str, bytes] = {}
# Header names in pamqp's (sorted) order, by the order the envelope inserted them.
_ORDERS: dict[tuple[str, ...], list[str]] = {}
# A string value's name, type and length, by (name, length in bytes).
_STRING_PREFIXES: dict[tuple[str, int], bytes] = {}
_MAX_CACHED = 256
# A header table's length prefix, for the sizes the relay's tables have.
_SMALL_TABLE = 4096
_TABLE_SIZES = tuple(_LONG.pack(n) for n in range(_SMALL_TABLE))
