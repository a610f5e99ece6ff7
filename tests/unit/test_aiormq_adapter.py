"""The aiormq adapter against a real `aiormq.Channel`, no broker: frames in, futures out.

A stub connection stands in for the socket. The test writes broker frames into the
channel's frame queue exactly as aiormq's connection reader does, so aiormq's own
reader and handlers settle them; the adapter's verbs (through the tick batcher) must
still see every outcome. If an aiormq upgrade renames or reshapes anything the adapter
relies on, these fail (see the renamed-attribute tests at the end).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import types
from collections.abc import AsyncIterator
from typing import Any

import aiormq
import pytest
import structlog
from aiormq.base import Base
from aiormq.connection import FrameReceiver
from pamqp import commands
from pamqp.body import ContentBody
from pamqp.frame import marshal, unmarshal
from pamqp.header import ContentHeader
from pamqp.heartbeat import Heartbeat

from relay.amqp import _aiormq, pipeline
from relay.amqp.batched import TickBatcher
from relay.callback.envelope import Outgoing
from relay.errors import ConfirmTimeout, Unavailable

CHANNEL = 1


class StubConnection(Base):
    """What `aiormq.Channel` needs of its connection, and nothing that talks to a socket."""

    publisher_confirms = True
    is_opened = False  # a closing channel then skips the Channel.Close round trip

    def __init__(self) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.connection_tune = types.SimpleNamespace(frame_max=131072, heartbeat=0)
        self.write_queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=10)

    def __str__(self) -> str:
        return "stub"

    async def _on_close(self, exc: BaseException | type[BaseException] | None = None) -> None:
        return None


@pytest.fixture
async def channel() -> AsyncIterator[aiormq.Channel]:
    """A real aiormq confirm channel whose reader task runs; closed afterwards."""
    raw = aiormq.Channel(StubConnection(), CHANNEL, publisher_confirms=True)  # type: ignore[arg-type]
    yield raw
    await raw.close()


def message(message_id: str) -> Outgoing:
    when = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return Outgoing("x", "k", b"{}", message_id, "c", when, "t", {"h": "v"})


async def feed(channel: aiormq.Channel, *frames: Any) -> None:
    """Hand frames to the channel the way aiormq's connection reader does, then let them run."""
    for frame in frames:
        await channel.frames.put((0, frame))
    for _ in range(5):
        await asyncio.sleep(0)


async def published(batcher: TickBatcher, *ids: str) -> list[asyncio.Task[Any]]:
    """Publish one message per id through the batcher and let its flush run."""
    tasks = [asyncio.create_task(batcher.publish(message(i))) for i in ids]
    for _ in range(3):
        await asyncio.sleep(0)
    return tasks


def written(channel: aiormq.Channel) -> list[Any]:
    """The frames queued for the socket, decoded by pamqp."""
    data = b"".join(
        channel.write_queue.get_nowait().payload for _ in range(channel.write_queue.qsize())
    )
    frames = []
    while data:
        used, _, frame = unmarshal(data)
        frames.append(frame)
        data = data[used:]
    return frames


async def test_one_tick_is_one_write_of_every_publish_in_order(channel: aiormq.Channel) -> None:
    """Two publishes in one tick: one queued write, Publish/Header/Body each, ids in order."""
    await published(TickBatcher(channel, 5.0), "a", "b")
    assert channel.write_queue.qsize() == 1
    frames = written(channel)
    assert [type(f).__name__ for f in frames] == ["Publish", "ContentHeader", "ContentBody"] * 2
    assert [f.properties.message_id for f in frames if isinstance(f, ContentHeader)] == ["a", "b"]


async def test_a_single_ack_settles_only_its_own_publish(channel: aiormq.Channel) -> None:
    """Basic.Ack for tag 1 resolves the first publish; the second keeps waiting."""
    first, second = await published(TickBatcher(channel, 5.0), "a", "b")
    await feed(channel, commands.Basic.Ack(delivery_tag=1))
    assert isinstance(first.result(), commands.Basic.Ack)
    assert not second.done()
    assert len(_aiormq.waiters(channel)) == 1
    assert "a" not in channel.message_id_delivery_tag


async def test_a_multiple_ack_settles_every_publish_up_to_its_tag(channel: aiormq.Channel) -> None:
    """Basic.Ack(multiple) for tag 2 resolves publishes 1 and 2, not 3."""
    tasks = await published(TickBatcher(channel, 5.0), "a", "b", "c")
    await feed(channel, commands.Basic.Ack(delivery_tag=2, multiple=True))
    assert [t.done() for t in tasks] == [True, True, False]
    assert all(isinstance(t.result(), commands.Basic.Ack) for t in tasks[:2])


async def test_a_nack_fails_the_publish_with_aiormqs_delivery_error(
    channel: aiormq.Channel,
) -> None:
    """Basic.Nack becomes DeliveryError, which the publisher maps to Nacked."""
    (task,) = await published(TickBatcher(channel, 5.0), "a")
    await feed(channel, commands.Basic.Nack(delivery_tag=1))
    with pytest.raises(aiormq.exceptions.DeliveryError):
        task.result()


def _returned(message_id: str) -> tuple[commands.Basic.Return, ContentHeader]:
    """The broker's Basic.Return of publish 2 (`message_id`) and its content header."""
    back = commands.Basic.Return(reply_code=312, reply_text="NO_ROUTE", exchange="x")
    return back, ContentHeader(0, 2, commands.Basic.Properties(message_id=message_id))


async def test_a_return_is_matched_by_message_id_and_fails_that_publish(
    channel: aiormq.Channel,
) -> None:
    """Basic.Return of message "b" fails publish 2 with PublishError; its later ack is ignored."""
    first, second = await published(TickBatcher(channel, 5.0), "a", "b")
    back, returned = _returned("b")
    await feed(channel, back, returned, ContentBody(b"{}"))
    with pytest.raises(aiormq.exceptions.PublishError):
        second.result()
    await feed(channel, commands.Basic.Ack(delivery_tag=2, multiple=True))
    assert isinstance(first.result(), commands.Basic.Ack)
    assert _aiormq.waiters(channel) == []


async def test_an_ack_right_behind_a_return_still_sees_the_return_first(
    channel: aiormq.Channel,
) -> None:
    """Return, content and the multiple-ack covering it in one read: the ack waits its turn."""
    first, second = await published(TickBatcher(channel, 5.0), "a", "b")
    back, returned = _returned("b")
    ack = commands.Basic.Ack(delivery_tag=2, multiple=True)
    await feed(channel, back, returned, ContentBody(b"{}"), ack)
    with pytest.raises(aiormq.exceptions.PublishError):
        second.result()
    assert isinstance(first.result(), commands.Basic.Ack)
    assert channel.confirmations == {}


async def test_a_multiple_ack_after_a_return_drops_its_marker_once_reached(
    channel: aiormq.Channel,
) -> None:
    """A return's marker sits after later publishes in the table; a later ack still drops it."""
    batcher = TickBatcher(channel, 5.0)
    tasks = await published(batcher, "a", "b", "c")
    returned = ContentHeader(0, 2, commands.Basic.Properties(message_id="a"))
    back = commands.Basic.Return(reply_code=312, reply_text="NO_ROUTE", exchange="x")
    await feed(channel, back, returned, ContentBody(b"{}"))
    await feed(channel, commands.Basic.Ack(delivery_tag=2, multiple=True))  # covers 1 and 2
    with pytest.raises(aiormq.exceptions.PublishError):
        tasks[0].result()
    assert isinstance(tasks[1].result(), commands.Basic.Ack)
    assert not tasks[2].done()
    assert _aiormq.waiters(channel) == [channel.confirmations[3]]  # not the marker
    await feed(channel, commands.Basic.Ack(delivery_tag=3, multiple=True))
    assert isinstance(tasks[2].result(), commands.Basic.Ack)
    assert channel.confirmations == {}


async def test_a_channel_close_fails_every_waiting_publish(channel: aiormq.Channel) -> None:
    """Channel.Close from the broker: every unconfirmed publish fails with Unavailable at once."""
    tasks = await published(TickBatcher(channel, 5.0), "a", "b")
    await feed(channel, commands.Channel.Close(reply_code=406, reply_text="PRECONDITION_FAILED"))
    await asyncio.wait(tasks, timeout=1)
    for task in tasks:
        with pytest.raises(Unavailable):
            task.result()
    assert channel.is_closed


async def test_an_expired_publish_leaves_the_table_and_its_late_ack_is_ignored(
    channel: aiormq.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    """No confirm in time: ConfirmTimeout, tag removed, a late Basic.Ack is dropped."""
    (task,) = await published(TickBatcher(channel, 0.01), "a")
    await asyncio.wait([task], timeout=1)
    with pytest.raises(ConfirmTimeout):
        task.result()
    assert _aiormq.waiters(channel) == []
    with caplog.at_level(logging.ERROR, logger="aiormq"):
        await feed(channel, commands.Basic.Ack(delivery_tag=1))
    assert not channel.is_closed


async def test_a_full_write_queue_refuses_the_batch_with_503(channel: aiormq.Channel) -> None:
    """The connection's write queue is full: the tick's publishes fail at once, no tag is taken."""
    while not channel.write_queue.full():
        channel.write_queue.put_nowait(object())
    (task,) = await published(TickBatcher(channel, 5.0), "a")
    with pytest.raises(Unavailable):
        task.result()
    assert channel.delivery_tag == 0


async def test_the_unblocked_event_is_found_on_a_real_aiormq_connection() -> None:
    """aio-pika's connection -> transport -> aiormq connection's private unblocked event."""
    raw = aiormq.Connection("amqp://guest:guest@127.0.0.1:1/")
    shaped = types.SimpleNamespace(transport=types.SimpleNamespace(connection=raw))
    assert isinstance(_aiormq.unblocked_event(shaped), asyncio.Event)  # type: ignore[arg-type]


def _broker_frames() -> list[Any]:
    properties = commands.Basic.Properties(message_id="b", headers={"h": "v"})
    return [
        commands.Basic.Ack(delivery_tag=5, multiple=True),
        commands.Basic.Ack(delivery_tag=(1 << 63) - 1),
        commands.Basic.Nack(delivery_tag=8, multiple=True),
        commands.Basic.Return(312, "NO_ROUTE", "x", "k"),
        ContentHeader(0, 2, properties),
        ContentBody(b"{}"),
        Heartbeat(),
        commands.Channel.CloseOk(),
        commands.Basic.Ack(delivery_tag=9),
    ]


async def _read(wire: bytes, chunk: int, count: int) -> list[tuple[int, int, Any]]:
    reader = asyncio.StreamReader()
    receiver = FrameReceiver(reader)
    receiver.started = True

    async def feed() -> None:
        for start in range(0, len(wire), chunk):
            reader.feed_data(wire[start : start + chunk])
            await asyncio.sleep(0)

    feeding = asyncio.create_task(feed())
    got = [await receiver.get_frame() for _ in range(count)]
    await feeding
    return got


@pytest.mark.parametrize("chunk", [1, 7, 8, 20, 21, 22, 50, 4096])
async def test_buffered_frames_decode_as_aiormqs_reader_decodes_them(chunk: int) -> None:
    """Whole frames taken from the buffer, or aiormq's path: the same bytes, frames, channels."""
    frames = _broker_frames()
    wire = b"".join(marshal(f, 3) for f in frames)
    top_bit = marshal(commands.Basic.Ack(delivery_tag=1), 3)  # a tag pamqp reads as negative
    wire += top_bit[:11] + b"\xff" * 8 + top_bit[19:]
    frames.append(commands.Basic.Ack(delivery_tag=-1))
    _aiormq.read_frames_from_the_buffer()
    ours = await _read(wire, chunk, len(frames))
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(FrameReceiver, "get_frame", _aiormq._aiormq_get_frame)
    try:
        theirs = await _read(wire, chunk, len(frames))
    finally:
        monkeypatch.undo()
    assert [(n, ch, type(f), _fields(f)) for n, ch, f in ours] == [
        (n, ch, type(f), _fields(f)) for n, ch, f in theirs
    ]
    assert [type(f) for _, _, f in ours] == [type(f) for f in frames]


def _fields(frame: Any) -> dict[str, Any]:
    slots = getattr(frame, "__slots__", [])
    return {name: getattr(frame, name, None) for name in slots if name != "properties"}


async def test_a_buffered_frame_with_a_bad_end_octet_is_aiormqs_invalid_frame_error() -> None:
    """A Basic.Ack whose last byte is not the frame end: InvalidFrameError, as aiormq raises."""
    wire = marshal(commands.Basic.Ack(delivery_tag=1), 1)
    _aiormq.read_frames_from_the_buffer()
    with pytest.raises(aiormq.exceptions.InvalidFrameError):
        await _read(wire[:-1] + b"\x00", 4096, 1)


async def _outcome(scenario: Any) -> tuple[str, str]:
    """What `scenario` makes a receiver's next get_frame do: the error's type and text."""
    reader = asyncio.StreamReader()
    receiver = FrameReceiver(reader)
    receiver.started = True
    reading = asyncio.create_task(receiver.get_frame())
    await asyncio.sleep(0)
    scenario(reader)
    try:
        await asyncio.wait_for(reading, 1)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return "none", ""


_ACK = marshal(commands.Basic.Ack(delivery_tag=1), 1)


@pytest.mark.parametrize(
    "scenario",
    [
        lambda r: (r.feed_data(_ACK[:10]), r.feed_eof()),
        lambda r: r.feed_eof(),
        lambda r: r.set_exception(ConnectionResetError("reset")),
        lambda r: (r.feed_data(_ACK[:3]), r.set_exception(OSError("gone"))),
    ],
    ids=["eof-mid-frame", "eof", "reset", "error-mid-frame"],
)
async def test_a_stream_that_ends_or_fails_raises_what_aiormqs_reader_raises(
    scenario: Any,
) -> None:
    """End of stream and socket errors, while waiting: the same exception with or without it."""
    _aiormq.read_frames_from_the_buffer()
    ours = await _outcome(scenario)
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(FrameReceiver, "get_frame", _aiormq._aiormq_get_frame)
    try:
        theirs = await _outcome(scenario)
    finally:
        monkeypatch.undo()
    assert ours == theirs
    assert ours[0] != "none"


def test_the_installed_aiormq_is_a_verified_version() -> None:
    """The guard's set names the installed minor version (pyproject pins the same range)."""
    assert _aiormq.minor("7.2.4") == "7.2"
    assert _aiormq.SUPPORTED, (_aiormq.INSTALLED, _aiormq.VERIFIED)


def test_an_unverified_aiormq_falls_back_to_the_public_pipeline_with_one_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """batched -> public and one warning; public is chosen as asked, silently."""
    monkeypatch.setattr(_aiormq, "SUPPORTED", False)
    with structlog.testing.capture_logs() as logs:
        assert pipeline.choose("batched") == "public"
        assert pipeline.choose("public") == "public"
    assert [entry["log_level"] for entry in logs] == ["warning"]


RENAMES = ["confirmations", "message_id_delivery_tag", "delivery_tag", "write_queue"]


@pytest.mark.parametrize("attribute", RENAMES)
async def test_the_contract_fails_when_aiormq_renames_what_the_adapter_uses(
    attribute: str,
) -> None:
    """Simulated upgrade: one attribute renamed on a real channel; the ack scenario breaks."""
    raw = aiormq.Channel(StubConnection(), CHANNEL, publisher_confirms=True)  # type: ignore[arg-type]
    setattr(raw, f"renamed_{attribute}", vars(raw).pop(attribute))
    # The adapter's AttributeError reaches the caller as the batcher's Unavailable.
    with pytest.raises((AttributeError, Unavailable, TimeoutError, AssertionError)):
        await _ack_scenario(raw)
    raw.closing.cancel()


async def _ack_scenario(channel: aiormq.Channel) -> None:
    (task,) = await published(TickBatcher(channel, 0.5), "a")
    await feed(channel, commands.Basic.Ack(delivery_tag=1))
    assert isinstance(await asyncio.wait_for(task, 1), commands.Basic.Ack)
