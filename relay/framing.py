"""The wire bytes of one publish's content: header frame and body frames.

pamqp encodes a content header by walking every property through a generic, type-
dispatching encoder; under the benchmark that was about 11 us of a ~160 us request.
The relay's messages only ever carry short strings, a delivery mode, a timestamp and a
header table of strings and booleans, so those are encoded here directly. Anything
else (another value type, an over-long name) goes to pamqp, and the tests check that
both produce the same bytes for whatever the relay can send.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from typing import Any

from pamqp.body import ContentBody
from pamqp.commands import Basic
from pamqp.frame import marshal
from pamqp.header import ContentHeader

_FRAME_HEADER = struct.Struct(">BHI")  # frame type, channel, payload size
_HEADER_FRAME, _BODY_FRAME = 2, 3
_FRAME_END = b"\xce"
_CLASS_WEIGHT_SIZE = struct.Struct(">HHQ")  # class id, weight (0), body size
_FLAGS = struct.Struct(">H")
_LONG = struct.Struct(">I")
_TIMESTAMP = struct.Struct(">Q")
_LENGTH_OCTET = tuple(bytes((n,)) for n in range(256))  # a shortstr's length prefix


class _Unsupported(Exception):
    """A value the direct encoder leaves to pamqp."""


def content_frames(properties: Basic.Properties, body: bytes, channel: int, max_size: int) -> bytes:
    """The content header frame and body frame(s) of one message, ready for the socket."""
    try:
        header = _header_payload(properties, len(body))
    except _Unsupported:
        header = ContentHeader(properties=properties, body_size=len(body)).marshal()
    head = _FRAME_HEADER.pack(_HEADER_FRAME, channel, len(header))
    if 0 < len(body) <= max_size:  # a callback fits one body frame: no slicing, one join
        body_head = _FRAME_HEADER.pack(_BODY_FRAME, channel, len(body))
        return b"".join((head, header, _FRAME_END, body_head, body, _FRAME_END))
    parts = [head, header, _FRAME_END]
    for start in range(0, len(body), max_size):
        chunk = body[start : start + max_size]
        parts += (_FRAME_HEADER.pack(_BODY_FRAME, channel, len(chunk)), chunk, _FRAME_END)
    return b"".join(parts)


def pamqp_content_frames(
    properties: Basic.Properties, body: bytes, channel: int, max_size: int
) -> bytes:
    """The same bytes through pamqp alone: the reference the tests compare against."""
    frames: list[Any] = [ContentHeader(properties=properties, body_size=len(body))]
    frames += [ContentBody(body[i : i + max_size]) for i in range(0, len(body), max_size)]
    return b"".join(marshal(frame, channel) for frame in frames)


def _header_payload(properties: Basic.Properties, body_size: int) -> bytes:
    flags = 0
    parts = [b""]
    for value, bit, encoder in zip(_property_values(properties), _BITS, _ENCODERS, strict=True):
        if value is None or value == "":
            continue
        flags |= bit
        parts.append(encoder(value))
    parts[0] = _CLASS_WEIGHT_SIZE.pack(Basic.frame_id, 0, body_size) + _FLAGS.pack(flags)
    return b"".join(parts)


def _octet(value: Any) -> bytes:
    if type(value) is not int or not 0 <= value <= 255:
        raise _Unsupported("octet")
    return bytes((value,))


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
    for key, value in sorted(table.items()):  # pamqp's order, so the bytes match
        parts.append(_FIELD_NAMES.get(key) or _field_name(key))
        if value.__class__ is str:  # nearly every header value: no call
            raw = value.encode()
            parts += (b"S", _LONG.pack(len(raw)), raw)
        else:
            parts.append(_table_value(value))
    payload = b"".join(parts)
    return _LONG.pack(len(payload)) + payload


def _field_name(key: Any) -> bytes:
    name = _shortstr(key)
    if len(name) > 129:
        raise _Unsupported("field name length")  # pamqp truncates it, with a warning
    return _remember(_FIELD_NAMES, key, name)


def _constant(value: Any) -> bytes:
    """A shortstr from a small set (content type, app id, message type): cached."""
    if value.__class__ is not str:
        raise _Unsupported("shortstr")
    return _CONSTANTS.get(value) or _remember(_CONSTANTS, value, _shortstr(value))


def _remember(cache: dict[str, bytes], key: str, encoded: bytes) -> bytes:
    if len(cache) < _MAX_CACHED:  # bounded: only the relay's own few dozen names recur
        cache[key] = encoded
    return encoded


def _table_value(value: Any) -> bytes:
    if value.__class__ is str:
        raw = value.encode()
        return b"S" + _LONG.pack(len(raw)) + raw
    if value.__class__ is bool:
        return b"t\x01" if value else b"t\x00"
    raise _Unsupported("table value")


# Basic.Properties in wire order: attribute, flag bit, encoder.
_PROPERTIES: tuple[tuple[str, int, Callable[[Any], bytes]], ...] = (
    ("content_type", 1 << 15, _constant),
    ("content_encoding", 1 << 14, _constant),
    ("headers", 1 << 13, _table),
    ("delivery_mode", 1 << 12, _octet),
    ("priority", 1 << 11, _octet),
    ("correlation_id", 1 << 10, _shortstr),
    ("reply_to", 1 << 9, _shortstr),
    ("expiration", 1 << 8, _shortstr),
    ("message_id", 1 << 7, _shortstr),
    ("timestamp", 1 << 6, _timestamp),
    ("message_type", 1 << 5, _constant),
    ("user_id", 1 << 4, _constant),
    ("app_id", 1 << 3, _constant),
    ("cluster_id", 1 << 2, _constant),
)
_property_values = operator.attrgetter(*(name for name, _, _ in _PROPERTIES))
_BITS = tuple(bit for _, bit, _ in _PROPERTIES)
_ENCODERS = tuple(encoder for _, _, encoder in _PROPERTIES)
# Encoded header names and constant property values: the same few dozen on every message.
_FIELD_NAMES: dict[str, bytes] = {}
_CONSTANTS: dict[str, bytes] = {}
_MAX_CACHED = 256
