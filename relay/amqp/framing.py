"""The wire bytes of one publish's content: header frame and body frames.

pamqp encodes a content header by walking all fourteen properties through a generic,
type-dispatching encoder, and the relay first had to build pamqp's `Basic.Properties`
for it: a noticeable share of a request's instructions (docs/performance.md). The relay
sets the same few properties on every message (`relay.callback.envelope.Outgoing`): constant
content type, delivery mode and app id; ids, a timestamp, a type and a header table of
strings and booleans. Those are encoded here in wire order, straight through. Anything
else (another value type, an over-long name) goes to pamqp, and the tests check that
both produce the same bytes for whatever an `Outgoing` can hold.
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
_HEADER_FRAME, _BODY_FRAME = 2, 3
_FRAME_END = b"\xce"
_CLASS_WEIGHT_SIZE_FLAGS = struct.Struct(">HHQH")  # class id, weight (0), body size, flags
_BASIC_CLASS = Basic.frame_id
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


class _Unsupported(Exception):
    """A value the direct encoder leaves to pamqp."""


def content_frames(message: Outgoing, channel: int, max_size: int) -> bytes:
    """The content header frame and body frame(s) of `message`, ready for the socket.

    `Unencodable` if a value cannot be put on the wire at all.
    """
    body = message.body
    try:
        header = _header(message)
    except (UnicodeError, ValueError, TypeError, struct.error, PAMQPException) as exc:
        raise Unencodable(f"message header not encodable: {exc.__class__.__name__}") from exc
    head = _FRAME_HEADER.pack(_HEADER_FRAME, channel, len(header))
    if 0 < len(body) <= max_size:  # a callback fits one body frame: no slicing, one join
        body_head = _FRAME_HEADER.pack(_BODY_FRAME, channel, len(body))
        return b"".join((head, header, _FRAME_END, body_head, body, _FRAME_END))
    parts = [head, header, _FRAME_END]
    for start in range(0, len(body), max_size):
        chunk = body[start : start + max_size]
        parts += (_FRAME_HEADER.pack(_BODY_FRAME, channel, len(chunk)), chunk, _FRAME_END)
    return b"".join(parts)


def _header(message: Outgoing) -> bytes:
    try:
        return _header_payload(message)
    except _Unsupported:
        return ContentHeader(properties=message.properties, body_size=len(message.body)).marshal()


def pamqp_content_frames(message: Outgoing, channel: int, max_size: int) -> bytes:
    """The same bytes through pamqp alone: the reference the tests compare against."""
    body = message.body
    frames: list[Any] = [ContentHeader(properties=message.properties, body_size=len(body))]
    frames += [ContentBody(body[i : i + max_size]) for i in range(0, len(body), max_size)]
    return b"".join(marshal(frame, channel) for frame in frames)


def _header_payload(message: Outgoing) -> bytes:
    """Class, weight, body size, flags, then each property that is set, in wire order."""
    flags = _CONTENT_TYPE | _HEADERS | _DELIVERY_MODE | _TIMESTAMP_SET | _APP_ID
    parts = [b"", _CONTENT_TYPE_VALUE, _table(message.headers), _DELIVERY_MODE_VALUE]
    if message.correlation_id:  # pamqp leaves out empty strings as it does None
        flags |= _CORRELATION_ID
        parts.append(_shortstr(message.correlation_id))
    if message.message_id:
        flags |= _MESSAGE_ID
        parts.append(_shortstr(message.message_id))
    parts.append(_timestamp(message.timestamp))
    if message.message_type:
        flags |= _TYPE
        parts.append(_TYPES.get(message.message_type) or _type_name(message.message_type))
    parts.append(_APP_ID_VALUE)
    parts[0] = _CLASS_WEIGHT_SIZE_FLAGS.pack(_BASIC_CLASS, 0, len(message.body), flags)
    return b"".join(parts)


def _timestamp(value: Any) -> bytes:
    if getattr(value, "tzinfo", None) is None:
        raise _Unsupported("timestamp")  # naive datetimes and struct_time: pamqp's rules
    return _TIMESTAMP.pack(int(value.timestamp()))


def _shortstr(value: Any) -> bytes:
    if value.__class__ is not str:
        raise _Unsupported("shortstr")
    raw = value.encode()
    if len(raw) > 255:
        raise _Unsupported("shortstr length")  # pamqp raises the proper error
    return _LENGTH_OCTET[len(raw)] + raw


def _table(table: Any) -> bytes:
    if type(table) is not dict:
        raise _Unsupported("table")
    parts = []
    for key in sorted(table):  # pamqp's order, so the bytes match
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
    payload = b"".join(parts)
    return _LONG.pack(len(payload)) + payload


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


def _type_name(value: Any) -> bytes:
    return _remember(_TYPES, value, _shortstr(value))


def _remember(cache: dict[str, bytes], key: str, encoded: bytes) -> bytes:
    if len(cache) < _MAX_CACHED:  # bounded: only the relay's own few dozen names recur
        cache[key] = encoded
    return encoded


_CONTENT_TYPE_VALUE = _shortstr(CONTENT_TYPE)
_APP_ID_VALUE = _shortstr(APP_ID)
_DELIVERY_MODE_VALUE = bytes((PERSISTENT,))
# Encoded header names and message types: the same few dozen on every message.
_FIELD_NAMES: dict[str, bytes] = {}
_TYPES: dict[str, bytes] = {}
# A string value's name, type and length, by (name, length in bytes).
_STRING_PREFIXES: dict[tuple[str, int], bytes] = {}
_MAX_CACHED = 256
