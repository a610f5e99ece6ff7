"""The components `bench.components` measures, each one call on the next realistic input.

Inputs are the bench's own callbacks (bench.payloads, all seven types) and the request
headers wrk sends. Loop-bound steps (the publish and its confirm) run on a real event loop
against a real `aiormq.Channel` whose connection is a stub, as in
tests/unit/test_aiormq_adapter.py: the broker's Basic.Ack goes in where aiormq's
connection reader puts it, so aiormq's own channel reader settles it.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import time
import types
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import aiormq
import uvloop
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiormq.base import Base
from aiormq.connection import FrameReceiver
from multidict import CIMultiDict, CIMultiDictProxy
from pamqp import commands
from pamqp.frame import marshal

from bench.payloads import Callback, sample
from relay.amqp.batched import TickBatcher
from relay.amqp.framing import add_content_frames
from relay.callback import envelope, shapes
from relay.callback.ids import IdSource
from relay.callback.validation import Event, classify, parse_object
from relay.config import LoggingSettings, Settings
from relay.edge import middleware
from relay.edge._aiohttp import JsonOk
from relay.edge.app import create_app
from relay.edge.body import BodyBudget, refuse_encoded
from relay.edge.handlers import ACCEPTED
from relay.edge.keys import LOG_FIELDS, REQUEST_ID
from relay.telemetry import logs
from relay.telemetry.metrics import create_metrics
from relay.telemetry.tracing import TraceParent, W3cTracer
from tests.support.fakes import FakePublisher

Step = Callable[[], Any]


def steps() -> dict[str, Step]:
    """Name -> one call. Names say which part of a callback's path each is."""
    callbacks = sample(512)
    bodies = _cycle(callbacks)
    settings = Settings()
    out: dict[str, Step] = {}
    out.update(_parsing(bodies))
    out.update(_edge(bodies, settings))
    out.update(_publish(bodies, settings))
    return out


def _parsing(bodies: Callable[[], Callback]) -> dict[str, Step]:
    parsed = [(cb.body, parse_object(cb.body)[0]) for cb in sample(512)]
    docs = _cycle(parsed)

    def dedup() -> str:  # as classify computes it for a conforming known type
        body, doc = docs()
        return shapes.key(shapes.SHAPES[doc["type"]], doc, body)

    return {
        "JSON parsing (orjson.loads)": lambda: parse_object(bodies().body),
        "classify: parse + validation + dedup key": lambda: classify(bodies().body),
        "dedup key alone": dedup,
    }


def _edge(bodies: Callable[[], Callback], settings: Settings) -> dict[str, Step]:
    app = create_app(settings, FakePublisher())
    headers = _headers()
    tracer, ids = W3cTracer(), IdSource()
    budget = BodyBudget(1 << 30, 1 << 20)
    metrics = create_metrics()
    request = _request(app, headers)
    events = _cycle([classify(cb.body) for cb in sample(512)])

    def guards() -> None:
        refuse_encoded(request)
        budget.release(budget.reserve(budget.size_of(request)))

    def trace() -> None:
        with tracer.callback_span(headers, "POST /sms") as span:
            assert span.trace_id

    span = TraceParent.new()

    def build() -> envelope.Outgoing:
        received = envelope.Received("r", "m", "/sms", None, headers, span, False)
        http = settings.http
        return envelope.build(
            events(), bodies().body, received, settings.topology, http.forward_headers
        )

    def counters() -> None:
        metrics.count_request("/sms", "mo_text", 200)
        metrics.publish_seconds.observe(0.004)

    return {
        "body budget + Content-Encoding guard": guards,
        "request id + message id": lambda: (ids.next(), ids.next()),
        "trace ids (W3C, no traceparent)": trace,
        "envelope (Received + build: headers, timestamp)": build,
        "metrics (request counter + publish histogram)": counters,
        "log line (render + write)": _log_line(request),
        "logged() around a handler, as the dispatcher calls it (incl. log line, metrics)": (
            _logged(request)
        ),
        "response object (JsonOk, accepted)": lambda: JsonOk(
            body=ACCEPTED, content_type="application/json"
        ),
    }


def _log_line(request: web.Request) -> Step:
    app = request.app
    logs.configure(LoggingSettings(format="json"), io.TextIOWrapper(io.BytesIO()))
    writer = logs._RequestLines.writer
    assert writer is not None
    writer._stream = _Sink()  # type: ignore[assignment]
    fields = {"type": "mo_text", "exchange": "sinch.inbound", "routing_key": "mo_text"}

    def line() -> None:
        request[LOG_FIELDS] = dict(fields, trace_id="0af7651916cd43dd8448eb211c80319c")
        asyncio.events._set_running_loop(_TICK)  # type: ignore[arg-type]
        middleware._log_line(request, app, "/sms", 200, time.perf_counter())
        asyncio.events._set_running_loop(None)
        writer.flush()  # one line per loop tick: the most a line can cost

    return line


def _logged(request: web.Request) -> Step:
    app = request.app

    async def handler(_: web.Request) -> web.StreamResponse:
        return JsonOk(body=ACCEPTED, content_type="application/json")

    def run() -> None:
        _complete(middleware.logged(request, app, handler, "/sms"))

    return run


def _publish(bodies: Callable[[], Callback], settings: Settings) -> dict[str, Step]:
    loop = uvloop.new_event_loop()  # the relay's loop
    channel = loop.run_until_complete(_channel())
    batcher: TickBatcher = loop.run_until_complete(_in_loop(lambda: TickBatcher(channel, 60.0)))
    messages = _cycle([_message(cb, settings) for cb in sample(512)])

    async def nothing() -> None:
        await asyncio.sleep(0)

    async def round_trip() -> None:
        task = asyncio.ensure_future(batcher.publish(messages()))
        await asyncio.sleep(0)  # publish registers; flush is scheduled
        await asyncio.sleep(0)  # flush frames and queues the write
        channel.write_queue.get_nowait()
        await channel.frames.put((0, commands.Basic.Ack(delivery_tag=channel.delivery_tag)))
        await task

    reader: asyncio.StreamReader = loop.run_until_complete(_in_loop(asyncio.StreamReader))
    receiver = FrameReceiver(reader)
    receiver.started = True
    ack = marshal(commands.Basic.Ack(delivery_tag=7, multiple=True), 1)

    def ack_frame() -> Any:  # buffered, as under load: the read never waits
        reader.feed_data(ack)
        return _complete(receiver.get_frame())

    def frames() -> bytes:
        message: envelope.Outgoing = messages()
        parts = [batcher._publish_frame(message)]
        add_content_frames(parts, message, 1, 131072)
        return b"".join(parts)

    return {
        "framing (Basic.Publish + header + body frames)": frames,
        "Basic.Ack frame read by aiormq's connection reader (buffered)": ack_frame,
        "event loop: one run_until_complete of a coroutine that sleeps once": lambda: (
            loop.run_until_complete(nothing())
        ),
        "publish + flush + Basic.Ack settled by aiormq (incl. loop)": lambda: (
            loop.run_until_complete(round_trip())
        ),
    }


class _StubConnection(Base):
    """What `aiormq.Channel` needs of a connection; no socket (as the adapter's tests)."""

    publisher_confirms = True
    is_opened = False

    def __init__(self) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.connection_tune = types.SimpleNamespace(frame_max=131072, heartbeat=0)
        self.write_queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=10)

    def __str__(self) -> str:
        return "stub"

    async def _on_close(self, exc: BaseException | type[BaseException] | None = None) -> None:
        return None


async def _channel() -> aiormq.Channel:
    return aiormq.Channel(_StubConnection(), 1, publisher_confirms=True)  # type: ignore[arg-type]


async def _in_loop(make: Callable[[], Any]) -> Any:
    return make()


def _message(cb: Callback, settings: Settings) -> envelope.Outgoing:
    event: Event = classify(cb.body)
    ids = IdSource()
    received = envelope.Received(ids.next(), ids.next(), cb.path, None, _headers(), None, False)
    return envelope.build(event, cb.body, received, settings.topology, ())


def _headers() -> CIMultiDictProxy[str]:
    given = CIMultiDict(
        {
            "Host": "127.0.0.1:8080",
            "Content-Type": "application/json",
            "User-Agent": "Sinch-Callback/1.0 (bench)",
            "Content-Length": "312",
        }
    )
    return CIMultiDictProxy(given)


def _request(app: web.Application, headers: CIMultiDictProxy[str]) -> web.Request:
    request = make_mocked_request("POST", "/sms", headers=headers, app=app)
    match = _complete(app.router.resolve(request))
    match.add_app(app)  # as web.Application._handle does
    match.freeze()
    request._match_info = match
    request[REQUEST_ID] = "req-1"
    request[LOG_FIELDS] = {}
    return request


def _complete(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends, without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("the coroutine suspended")


class _Tick:
    """Stands in for the running loop: the writer's once-per-tick flush is called by hand."""

    def call_soon(self, *_: Any) -> None:
        return None


_TICK = _Tick()


class _Sink:
    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        return None


def _cycle(items: list[Any]) -> Callable[[], Any]:
    it: Iterator[Any] = itertools.cycle(items)
    return lambda: next(it)
