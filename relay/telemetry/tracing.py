"""W3C trace context from the callback into the AMQP headers, and out again in consumers.

The relay is one hop of a trace: a valid incoming `traceparent` is continued with a new
parent id (the relay's own span), an absent or malformed one starts a new trace. The
result travels as the AMQP headers `traceparent` (and `tracestate` when the caller sent
one with a valid parent). With OpenTelemetry installed and an SDK configured (the `otel`
extra), the relay and consumers record real spans; without it the ids are still carried.

Consumer API: `with consume_span(message.headers, "sinch.consume") as trace:` yields the
`TraceParent` of the consumer's own hop (or None without one) for `trace.log_fields()`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import random
import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, Protocol

from relay.contract.message import TRACEPARENT, TRACESTATE

_FORMAT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_MAX_TRACESTATE = 512


class TraceParent(NamedTuple):
    """One W3C `traceparent` (version 00) plus the `tracestate` that goes with it."""

    trace_id: str
    parent_id: str
    flags: str = "01"
    tracestate: str | None = None

    @classmethod
    def parse(cls, value: object, tracestate: object = None) -> TraceParent | None:
        """The trace context of a header value, or None if it is not a valid one."""
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
        match = _FORMAT.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None or not _valid(*match.groups()):
            return None
        state = tracestate.decode() if isinstance(tracestate, bytes) else tracestate
        kept = state if isinstance(state, str) and 0 < len(state) <= _MAX_TRACESTATE else None
        return cls(match.group(2), match.group(3), match.group(4), kept)

    @classmethod
    def new(cls) -> TraceParent:
        """The root of a new, sampled trace."""
        return _root()

    def child(self) -> TraceParent:
        """The next hop of the same trace: same trace id, flags and state, new parent id."""
        parent_id = _random_hex(64)
        return _tuple(TraceParent, (self.trace_id, parent_id, self.flags, self.tracestate))

    # A context is its own no-op span: W3cTracer.callback_span returns it as it is, one
    # object and two calls fewer than contextlib.nullcontext per request.
    def __enter__(self) -> TraceParent:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        return None

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags}"

    def headers(self) -> dict[str, str]:
        """The headers that carry this context to the next hop."""
        out = {TRACEPARENT: self.header()}
        if self.tracestate:
            out[TRACESTATE] = self.tracestate
        return out

    def log_fields(self) -> dict[str, str]:
        return {"trace_id": self.trace_id, "span_id": self.parent_id}


# NamedTuple's generated __new__ is a Python function with defaults; tuple.__new__ is not.
_tuple = tuple.__new__


def _root() -> TraceParent:
    ids = random.getrandbits(192).to_bytes(24, "big").hex()  # both ids: one draw, one format
    trace_id, parent_id = ids[:32], ids[32:]
    if trace_id == "0" * 32 or parent_id == "0" * 16:  # invalid in W3C: draw again
        return _root()
    return _tuple(TraceParent, (trace_id, parent_id, "01", None))


def _valid(version: str, trace_id: str, parent_id: str, _: str, rest: str | None) -> bool:
    if version == "ff" or (version == "00" and rest is not None):
        return False
    return trace_id != "0" * 32 and parent_id != "0" * 16


def continue_trace(headers: Mapping[str, Any]) -> TraceParent:
    """The relay's hop: a child of a valid incoming `traceparent`, else a new trace."""
    value = headers.get(TRACEPARENT)
    if value is None:  # most callers send none: no parsing, no tracestate lookup
        return _root()
    parent = TraceParent.parse(value, headers.get(TRACESTATE))
    return parent.child() if parent is not None else TraceParent.new()


class Tracer(Protocol):
    """Opens the span of one callback and says which context to send downstream."""

    def callback_span(
        self, headers: Mapping[str, str], name: str
    ) -> contextlib.AbstractContextManager[TraceParent]: ...


class W3cTracer:
    """Carries trace ids without recording spans (OpenTelemetry absent)."""

    def callback_span(
        self, headers: Mapping[str, str], name: str
    ) -> contextlib.AbstractContextManager[TraceParent]:
        return continue_trace(headers)  # its own no-op context: no generator frame per call


class OtelTracer:
    """Records a SERVER span per callback through OpenTelemetry, if an SDK is configured."""

    def __init__(self, provider: Any = None, kind: str = "SERVER") -> None:
        from opentelemetry import trace

        self._tracer = trace.get_tracer("sinch-relay", tracer_provider=provider)
        self._kind = getattr(trace.SpanKind, kind)

    @contextlib.contextmanager
    def callback_span(self, headers: Mapping[str, Any], name: str) -> Iterator[TraceParent]:
        from opentelemetry import propagate

        carrier = {k.lower(): _text(v) for k, v in headers.items()}
        parent = propagate.extract(carrier)
        with self._tracer.start_as_current_span(name, context=parent, kind=self._kind) as span:
            yield _from_span(span) or continue_trace(carrier)


def _from_span(span: Any) -> TraceParent | None:
    """The context of a recording span; None for the API's no-op spans (no SDK set up)."""
    context = span.get_span_context()
    if not (span.is_recording() and context.is_valid):
        return None
    state = context.trace_state.to_header() or None
    flags = f"{int(context.trace_flags):02x}"
    return TraceParent(f"{context.trace_id:032x}", f"{context.span_id:016x}", flags, state)


def _text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def otel_available() -> bool:
    return importlib.util.find_spec("opentelemetry") is not None


def otel_configured() -> bool:
    """True when OpenTelemetry is installed *and* an SDK tracer provider is set.

    A no-op OpenTelemetry span still costs a visible share of a request's CPU (see
    docs/performance.md), so without a provider the plain W3C tracer is used.
    """
    if not otel_available():
        return False
    from opentelemetry import trace

    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def create_tracer() -> Tracer:
    """OpenTelemetry spans when an SDK is configured, plain W3C ids otherwise."""
    return OtelTracer() if otel_configured() else W3cTracer()


def extract(headers: Mapping[str, Any] | None) -> TraceParent | None:
    """The trace context the relay put on an AMQP message, or None (consumer side)."""
    if not headers:
        return None
    return TraceParent.parse(headers.get(TRACEPARENT), headers.get(TRACESTATE))


@contextlib.contextmanager
def consume_span(
    headers: Mapping[str, Any] | None, name: str = "sinch.consume", tracer: Tracer | None = None
) -> Iterator[TraceParent | None]:
    """A consumer's hop: a CONSUMER span (with OpenTelemetry) whose parent is the relay's."""
    if extract(headers) is None and tracer is None:
        yield None
        return
    chosen = tracer or (OtelTracer(kind="CONSUMER") if otel_available() else W3cTracer())
    with chosen.callback_span(dict(headers or {}), name) as trace:
        yield trace


def _random_hex(bits: int) -> str:
    # Trace ids need to be unique, not secret: the stdlib PRNG (seeded from the OS) costs
    # no system call, where secrets.token_hex read /dev/urandom on every request.
    # int.to_bytes().hex() is the cheapest fixed-width hex (a format spec is parsed per call).
    return (random.getrandbits(bits) or 1).to_bytes(bits // 8, "big").hex()
