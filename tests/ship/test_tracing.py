"""W3C trace context: validated from the callback, continued into AMQP headers and consumers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from relay.config import Settings
from relay.edge.app import create_app
from relay.edge.keys import PUBLISHER, TRACER
from relay.telemetry.tracing import OtelTracer, TraceParent, W3cTracer, consume_span, extract
from tests.payloads import BODIES
from tests.support.fakes import FakePublisher

ClientFactory = Callable[..., Awaitable[TestClient]]  # type: ignore[type-arg]
PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",  # no flags
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # zero parent id
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # forbidden version
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  # upper case
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  # v00 with more
    ],
)
def test_malformed_traceparents_are_rejected(value: str) -> None:
    """Anything not a valid W3C traceparent parses to None."""
    assert TraceParent.parse(value) is None


def test_valid_and_future_versions_parse() -> None:
    """Version 00 parses; a future version may carry extra fields."""
    parsed = TraceParent.parse(PARENT)
    assert parsed is not None
    assert parsed.header() == PARENT
    assert TraceParent.parse("01-" + PARENT[3:] + "-what-ever") is not None


async def _publish(client: TestClient, headers: dict[str, str]) -> dict[str, object]:  # type: ignore[type-arg]
    response = await client.post("/sms", data=BODIES["mo_text"], headers=headers)
    assert response.status == 200
    publisher = client.app[PUBLISHER]
    assert isinstance(publisher, FakePublisher)
    return dict(publisher.published[-1].properties.headers or {})


@pytest.fixture
async def client(aiohttp_client: ClientFactory) -> TestClient:  # type: ignore[type-arg]
    app = create_app(Settings(), FakePublisher())
    app[TRACER] = W3cTracer()
    return await aiohttp_client(app)


async def test_incoming_trace_is_continued_with_a_new_parent(client: TestClient) -> None:  # type: ignore[type-arg]
    """Same trace id and flags, the relay's own parent id, tracestate kept."""
    headers = await _publish(client, {"traceparent": PARENT, "tracestate": "sinch=1"})
    sent = TraceParent.parse(headers["traceparent"])
    assert sent is not None
    assert (sent.trace_id, sent.flags) == ("0af7651916cd43dd8448eb211c80319c", "01")
    assert sent.parent_id != "b7ad6b7169203331"
    assert headers["tracestate"] == "sinch=1"


@pytest.mark.parametrize("incoming", [{}, {"traceparent": "nonsense", "tracestate": "a=b"}])
async def test_absent_or_bad_trace_starts_a_new_one(
    client: TestClient,  # type: ignore[type-arg]
    incoming: dict[str, str],
) -> None:
    """No valid traceparent: a fresh, valid one; a tracestate without a parent is dropped."""
    headers = await _publish(client, incoming)
    assert TraceParent.parse(headers["traceparent"]) is not None
    assert "tracestate" not in headers
    assert "0af7651916cd43dd8448eb211c80319c" not in str(headers["traceparent"])


def _sdk() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_otel_records_a_server_span_and_sends_its_context(
    aiohttp_client: ClientFactory,
) -> None:
    """With an SDK: one SERVER span, child of the caller, whose id travels downstream."""
    provider, exporter = _sdk()
    app = create_app(Settings(), FakePublisher())
    app[TRACER] = OtelTracer(provider)
    headers = await _publish(await aiohttp_client(app), {"traceparent": PARENT})
    (span,) = exporter.get_finished_spans()
    assert span.name == "POST /sms"
    assert span.parent is not None
    assert span.parent.span_id == 0xB7AD6B7169203331
    sent = TraceParent.parse(headers["traceparent"])
    assert sent is not None
    assert int(sent.parent_id, 16) == span.context.span_id


def test_otel_without_sdk_falls_back_to_w3c_ids() -> None:
    """The API alone records nothing: the relay still sends a child context of its own."""
    with OtelTracer().callback_span({"traceparent": PARENT}, "x") as trace:
        assert trace.trace_id == "0af7651916cd43dd8448eb211c80319c"
        assert trace.parent_id != "b7ad6b7169203331"


def test_consumer_continues_the_relay_trace() -> None:
    """consume_span on AMQP headers (bytes or str) opens a CONSUMER span under the relay's."""
    provider, exporter = _sdk()
    relay_hop = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"
    headers = {"traceparent": relay_hop.encode(), "x-dedup-key": "k"}
    with consume_span(headers, "sinch.consume", OtelTracer(provider, kind="CONSUMER")) as trace:
        assert trace is not None
        assert trace.trace_id == "0af7651916cd43dd8448eb211c80319c"
    (span,) = exporter.get_finished_spans()
    assert span.parent is not None
    assert span.parent.span_id == 0x00F067AA0BA902B7
    assert extract(headers) == TraceParent.parse(relay_hop)


def test_consumer_without_trace_headers_gets_none() -> None:
    """Messages from before tracing (no traceparent) yield None and record nothing."""
    with consume_span({"x-dedup-key": "k"}) as trace:
        assert trace is None
