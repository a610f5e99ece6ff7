"""The zero-loss checker: bounded load with unique ids, then a full drain and a verdict.

`LoadGenerator` posts Sinch callbacks (each carrying a unique id) to a relay on
127.0.0.1, bounded in count and time, and records every answer with timestamps.
`drain` empties the queues the test bound to the relay's exchanges. `judge` compares
both: **lost** (answered 2xx, in no queue) and **unexpected** (in a queue, never sent)
must be empty; **duplicated** is counted. It also measures how long the relay answered
503/429 and how long it took to answer 2xx again after the fault ended.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import aio_pika
import aiohttp
import orjson
from yarl import URL

_PATHS = ("/sms/incoming", "/sms/delivery-report", "/sms")


def callback(uid: str, seq: int) -> tuple[str, bytes]:
    """A Sinch callback whose id is `uid`: inbound, delivery report, or an unknown type."""
    kind = seq % 10
    doc: dict[str, object]
    if kind == 9:  # unknown types are relayed to the unrouted exchange
        doc = {"type": "faults_probe", "probe_id": uid}
    elif kind % 2:
        doc = {"type": "recipient_delivery_report_sms", "batch_id": uid, "recipient": "4670",
               "code": 0, "status": "Delivered", "at": "2025-01-13T09:22:40.914Z"}  # fmt: skip
    else:
        doc = {"type": "mo_text", "id": uid, "from": "4670", "to": "12345", "body": "hi",
               "received_at": "2025-01-13T09:22:40.914Z"}  # fmt: skip
    return _PATHS[2 if kind == 9 else kind % 2], orjson.dumps(doc)


def uid_of(body: bytes) -> str:
    """The unique id a body was sent with ('' if it carries none)."""
    doc = orjson.loads(body)
    return str(doc.get("id") or doc.get("batch_id") or doc.get("probe_id") or "")


@dataclasses.dataclass(frozen=True, slots=True)
class Sent:
    """One request and what became of it: an HTTP status, or a transport error."""

    uid: str
    started: float
    ended: float
    status: int | None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclasses.dataclass
class LoadGenerator:
    """Posts callbacks at `rate` per second, at most `count` of them and `max_seconds` long."""

    base_url: str
    run_id: str
    rate: float = 100.0
    count: int = 2000
    max_seconds: float = 60.0
    request_timeout: float = 10.0
    sent: list[Sent] = dataclasses.field(default_factory=list)
    streak: int = 0  # 2xx answers in a row, most recent last
    sign: Callable[[bytes], Mapping[str, str]] | None = None  # headers for a body (HMAC)
    _stop: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        if URL(self.base_url).host != "127.0.0.1":
            raise ValueError("fault load goes to 127.0.0.1 only")

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> list[Sent]:
        """Send until stopped, `count` reached or `max_seconds` passed; await every answer."""
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        begun = time.monotonic()
        async with aiohttp.ClientSession(timeout=timeout) as session:
            pending: set[asyncio.Task[None]] = set()
            for seq in range(self.count):
                at = begun + seq / self.rate
                if self._stop.is_set() or at - begun > self.max_seconds:
                    break
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                task = asyncio.create_task(self._post(session, seq))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)
        return self.sent

    async def _post(self, session: aiohttp.ClientSession, seq: int) -> None:
        uid = f"{self.run_id}-{seq:06d}"
        path, body = callback(uid, seq)
        started = time.monotonic()
        status, error = None, None
        try:
            headers = self.sign(body) if self.sign else None
            async with session.post(self.base_url + path, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = exc.__class__.__name__
        self.sent.append(Sent(uid, started, time.monotonic(), status, error))
        self.streak = self.streak + 1 if self.sent[-1].accepted else 0


async def drain(amqp_url: str, queues: Iterable[str]) -> list[str]:
    """Take every message off `queues` and return their ids, duplicates kept."""
    found: list[str] = []
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        for name in queues:
            queue = await channel.declare_queue(name, passive=True)
            while (message := await queue.get(no_ack=True, fail=False, timeout=10)) is not None:
                found.append(uid_of(message.body))
    return found


@dataclasses.dataclass(frozen=True)
class Report:
    """The verdict for one scenario; `check()` fails the test on loss or strangers."""

    scenario: str
    sent: int
    accepted: int
    refused: dict[str, int]  # "503", "429", "error:<Exception>" ... -> count
    delivered: int
    lost: tuple[str, ...]
    duplicated: int
    unexpected: tuple[str, ...]
    unavailable_seconds: float  # first non-2xx answer to the last one
    recovery_seconds: float | None  # fault end to the first 2xx of the final healthy run
    max_latency: float

    @property
    def refusals(self) -> int:
        return sum(self.refused.values())

    def check(self) -> None:
        assert not self.lost, f"{self.scenario}: {len(self.lost)} lost, e.g. {self.lost[:5]}"
        assert not self.unexpected, (
            f"{self.scenario}: {len(self.unexpected)} unexpected, e.g. {self.unexpected[:5]}"
        )

    def row(self) -> str:
        refused = ", ".join(f"{k}: {v}" for k, v in sorted(self.refused.items())) or "-"
        recovery = "-" if self.recovery_seconds is None else f"{self.recovery_seconds:.2f}"
        return (
            f"| {self.scenario} | {self.sent} | {self.accepted} | {len(self.lost)} | "
            f"{self.duplicated} | {len(self.unexpected)} | {refused} | "
            f"{self.unavailable_seconds:.2f} | {recovery} | {self.max_latency:.2f} |"
        )


TABLE_HEADER = (
    "| scenario | sent | 2xx | lost | duplicated | unexpected | refused | "
    "503/429 window (s) | recovery (s) | max latency (s) |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def judge(scenario: str, sent: Sequence[Sent], found: Sequence[str], fault_end: float) -> Report:
    """Compare what the relay acknowledged with what reached the queues."""
    ids = {s.uid for s in sent}
    counts = collections.Counter(found)
    bad = [s for s in sent if not s.accepted]
    return Report(
        scenario=scenario,
        sent=len(sent),
        accepted=len(sent) - len(bad),
        refused=dict(collections.Counter(str(s.status or f"error:{s.error}") for s in bad)),
        delivered=len(counts),
        lost=tuple(sorted(s.uid for s in sent if s.accepted and s.uid not in counts)),
        duplicated=sum(n - 1 for n in counts.values()),
        unexpected=tuple(sorted(uid for uid in counts if uid not in ids)),
        unavailable_seconds=(max(s.ended for s in bad) - min(s.started for s in bad)) if bad else 0,
        recovery_seconds=recovery(sent, fault_end),
        max_latency=max((s.ended - s.started for s in sent), default=0.0),
    )


def recovery(sent: Sequence[Sent], fault_end: float) -> float | None:
    """Seconds from `fault_end` until the relay answered 2xx for good (None: never)."""
    ordered = sorted(sent, key=lambda s: s.started)
    last_bad = max((i for i, s in enumerate(ordered) if not s.accepted), default=-1)
    if last_bad + 1 >= len(ordered):
        return None
    return max(0.0, ordered[last_bad + 1].ended - fault_end)
