"""Turn an accepted callback into the AMQP message the relay publishes.

The body is forwarded byte for byte; what the edge learned travels in properties and
headers. Request headers are copied only by allowlist, so `Authorization` never reaches the
broker; Sinch's signature headers do only with `http.forward_signature`, under their own
names, so downstream can re-verify the body with Sinch's SDK.
"""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

from pamqp.commands import Basic
from pamqp.common import FieldTable

from relay.callback.validation import MAX_TYPE_BYTES, Event
from relay.config import TopologySettings
from relay.contract import message
from relay.contract.message import APP_ID, CONTENT_TYPE, PERSISTENT
from relay.contract.routing import Flow, exchange_for
from relay.telemetry.tracing import TraceParent, continue_trace


class Outgoing(NamedTuple):
    """One confirmed-publish request: where to, the untouched body, what it carries.

    The relay sets only these AMQP properties (plus the constant content type, delivery
    mode and app id), so `relay.amqp.framing` encodes them directly; `properties` is the same
    as pamqp's `Basic.Properties`, for pamqp's encoder and for readers.

    Per-request values are NamedTuples: immutable like a frozen dataclass, and cheaper
    to build (a frozen dataclass sets each field through object.__setattr__; see
    docs/performance.md).
    """

    exchange: str
    routing_key: str
    body: bytes
    message_id: str
    correlation_id: str
    timestamp: datetime.datetime
    message_type: str | None
    headers: FieldTable

    @property
    def properties(self) -> Basic.Properties:
        return Basic.Properties(
            content_type=CONTENT_TYPE,
            delivery_mode=PERSISTENT,
            message_type=self.message_type,
            message_id=self.message_id,
            correlation_id=self.correlation_id,
            timestamp=self.timestamp,
            app_id=APP_ID,
            headers=self.headers,
        )


class Received(NamedTuple):
    """Facts about the HTTP request that travel with the message."""

    request_id: str
    message_id: str
    path: str
    path_flow: Flow | None  # None for the catch-all /sms
    headers: Mapping[str, str]
    trace: TraceParent | None = None  # the relay's hop; None: derived from `headers`
    signature_stale: bool = False  # a genuine signature outside its window
    account: str = ""  # the Sinch account whose path it arrived on ("": the default paths)


ReceivedFields = tuple[str, str, str, Flow | None, Mapping[str, str], TraceParent | None, bool, str]
# `Received(*fields)`, all eight given, built in C (tuple.__new__): for the edge's hot
# path, where the NamedTuple's generated Python __new__ costs ~1.4k instructions more.
received_from: Final[Callable[[ReceivedFields], Received]] = functools.partial(
    tuple.__new__, Received
)


def build(
    event: Event,
    body: bytes,
    received: Received,
    names: TopologySettings,
    forward: tuple[str, ...],
    *,
    signature: bool = False,
) -> Outgoing:
    """The message for `event`: its exchange, routing key, properties and headers.

    `forward` is the `http-*` allowlist; `signature` copies Sinch's signature headers.
    """
    routable = event.unrouted_reason is None and event.flow is not None
    exchange = exchange_for(names, event.flow) if routable else names.unrouted  # type: ignore[arg-type]
    type_ = event.type
    # 63 characters are at most 252 UTF-8 bytes: no encoding for any real type.
    short_type = type_ if len(type_) <= 63 or len(type_.encode()) <= MAX_TYPE_BYTES else None
    # tuple.__new__ in C: the NamedTuple's generated Python __new__ cost ~2k instructions.
    return tuple.__new__(
        Outgoing,
        (
            exchange,
            short_type or "",
            body,
            received.message_id,  # message_id
            received.request_id[:255],  # correlation_id
            _whole_second(int(time.time())),  # timestamp: AMQP's are whole seconds
            short_type,  # message_type
            _headers(event, received, forward, signature),
        ),
    )


@functools.lru_cache(maxsize=1)
def _whole_second(seconds: int) -> datetime.datetime:
    """The timestamp of every message published within one second, built once.

    AMQP timestamps are whole seconds (`relay.amqp.framing` and pamqp drop the rest):
    one datetime per second instead of `datetime.now` per message (docs/performance.md).
    """
    return datetime.datetime.fromtimestamp(seconds, _UTC)


def _headers(
    event: Event, received: Received, forward: tuple[str, ...], signature: bool
) -> FieldTable:
    headers: FieldTable = {
        message.DEDUP_KEY: event.dedup_key,
        message.REQUEST_ID: received.request_id,
        message.RELAY_PATH: received.path,
    }
    if received.account:
        headers[message.SINCH_ACCOUNT] = received.account
    if event.unrouted_reason is not None:
        headers[message.UNROUTED_REASON] = event.unrouted_reason
        headers[message.SINCH_TYPE] = event.type[:1024]
    flow, path_flow = event.flow, received.path_flow
    # Misrouted: a known type on the other channel's URL (still published, flagged).
    if flow is not path_flow and flow is not None and path_flow is not None:
        headers[message.MISROUTED] = True
    if received.signature_stale:
        headers[message.SIGNATURE_STALE] = True
    trace = received.trace or continue_trace(received.headers)
    headers[message.TRACEPARENT] = trace.header()  # the relay's own hex ids: ASCII
    if trace.tracestate:
        headers[message.TRACESTATE] = encodable(trace.tracestate)
    given = received.headers
    for name in forward:  # lower-case, credential-free: HttpSettings checked it once
        value = given.get(name)
        if value is not None:  # `encodable`'s ASCII test inlined: nearly every header
            headers[message.FORWARDED_PREFIX + name] = (
                value if value.isascii() else encodable(value)
            )
    if signature:
        _copy_signature(given, headers)
    return headers


_UTC = datetime.UTC


def _copy_signature(given: Mapping[str, str], headers: FieldTable) -> None:
    # Exactly Sinch's names, unprefixed: Sinch's SDK validator looks them up so.
    for name in message.SIGNATURE_HEADERS:
        value = given.get(name)
        if value is not None:
            headers[name] = encodable(value)


def encodable(value: str) -> str:
    """`value` as valid UTF-8 text: a header byte that is not UTF-8 becomes `\\xNN`.

    HTTP allows obs-text (0x80-0xFF) in header values; aiohttp keeps such bytes as lone
    surrogates, which no AMQP string can hold. Left in, one odd `User-Agent` byte would
    make every retry of a genuine callback unpublishable.
    """
    if value.isascii():  # nearly every header: no encoding round trip
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no byte produced (never from the wire)
        raw = value.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")
