"""The direct content-frame encoder writes exactly the bytes pamqp would."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pamqp.frame import unmarshal
from pamqp.header import ContentHeader

from relay.amqp import framing
from relay.amqp.framing import content_frames, pamqp_content_frames
from relay.callback import envelope
from relay.callback.validation import classify
from relay.config import TopologySettings
from relay.errors import Unavailable, Unencodable
from tests.payloads import BODIES

_short = st.text(max_size=40)
_names = st.text(min_size=1, max_size=40)
_values = st.one_of(st.text(max_size=300), st.booleans())


@st.composite
def messages(draw: st.DrawFn) -> envelope.Outgoing:
    """Whatever an `Outgoing` can hold, including values the direct encoder leaves alone."""
    when = draw(
        st.datetimes(min_value=datetime.datetime(1970, 1, 2), timezones=st.just(datetime.UTC))
    )
    return envelope.Outgoing(
        exchange="x",
        routing_key="",
        body=draw(st.binary(max_size=600)),
        message_id=draw(_short),
        correlation_id=draw(_short),
        timestamp=when,
        message_type=draw(st.none() | _short),
        headers=draw(st.dictionaries(_names, _values, max_size=8)),
    )


@given(messages(), st.integers(1, 2047), st.integers(8, 256))
def test_same_bytes_as_pamqp(message: envelope.Outgoing, channel: int, max_size: int) -> None:
    assert content_frames(message, channel, max_size) == pamqp_content_frames(
        message, channel, max_size
    )


@pytest.mark.parametrize("type_", sorted(BODIES))
def test_every_relay_message_round_trips_through_pamqps_decoder(type_: str) -> None:
    body = BODIES[type_]
    received = envelope.Received("req-1", "msg-1", "/sms", None, {"traceparent": "garbage"})
    message = envelope.build(classify(body), body, received, TopologySettings(), ())
    wire = content_frames(message, 1, 131072)
    consumed, _, header = unmarshal(wire)
    assert isinstance(header, ContentHeader)
    assert header.body_size == len(body)
    sent, decoded = message.properties, header.properties
    assert decoded.headers == sent.headers
    assert (decoded.message_id, decoded.message_type) == (sent.message_id, sent.message_type)
    assert decoded.delivery_mode == sent.delivery_mode == 2
    assert sent.timestamp is not None
    assert decoded.timestamp is not None
    assert decoded.timestamp.replace(tzinfo=datetime.UTC) == sent.timestamp.replace(microsecond=0)
    assert wire[consumed:].endswith(body + b"\xce")


def test_values_it_does_not_encode_itself_still_go_through_pamqp() -> None:
    """An integer header, a naive timestamp: pamqp's encoding, not an error."""
    message = _message(headers={"x-count": 3}, timestamp=datetime.datetime(2025, 1, 1))
    assert content_frames(message, 1, 64) == pamqp_content_frames(message, 1, 64)


def test_encoding_caches_stay_bounded_under_ever_new_names() -> None:
    """Header names and message types are cached, but never without bound."""
    for i in range(600):
        headers = {f"x-{i}": "v" * (i % 300), f"a-{i}": True}
        message = _message(message_type=f"t{i}", headers=headers)
        assert content_frames(message, 1, 64) == pamqp_content_frames(message, 1, 64)
    assert len(framing._FIELD_NAMES) <= 256
    assert len(framing._TYPE_TAILS) <= 256
    assert len(framing._ORDERS) <= 256
    assert len(framing._STRING_PREFIXES) <= 256


def _message(**changes: Any) -> envelope.Outgoing:
    base = envelope.Outgoing(
        "x", "", b"{}", "m", "r", datetime.datetime.now(datetime.UTC), None, {}
    )
    return base._replace(**changes)


def test_an_unencodable_header_is_never_reported_as_a_broker_condition() -> None:
    """A value no AMQP string can hold raises Unencodable (500), not Unavailable (503)."""
    message = _message(headers={"http-user-agent": "bad\udce9"})
    with pytest.raises(Unencodable) as caught:
        content_frames(message, 1, 131072)
    assert not isinstance(caught.value, Unavailable)
    assert caught.value.status == 500


def test_obs_text_header_bytes_are_forwarded_as_escapes() -> None:
    """aiohttp keeps a 0xE9 header byte as a lone surrogate: the envelope makes it `\\xe9`."""
    body = BODIES["mo_text"]
    wire_headers = {"user-agent": "Sinch\udce9", "tracestate": "v=\udcff"}
    received = envelope.Received("req-1", "msg-1", "/sms", None, wire_headers)
    message = envelope.build(classify(body), body, received, TopologySettings(), ("user-agent",))
    assert message.headers["http-user-agent"] == "Sinch\\xe9"
    assert content_frames(message, 1, 131072)
