"""A bounded hostile run against a real `relay serve` process and the real broker.

    RELAY_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ python -m tests.security.attack_run

Traffic only to 127.0.0.1, each phase bounded in requests and seconds. Phases: framing,
encodings, JSON edge cases, paths, auth (token brute force), slow and stalled clients,
disconnects, a parsing flood while genuine callbacks are timed, and a broker cut under
load. It prints status counts, 5xx from the relay's own code (500), error-level log lines
and tracebacks, RSS before and after, and 2xx answers against messages the broker holds,
and exits 1 unless each check holds (RSS back within 10% of its start among them).

RSS is read from /proc: the start after 5 s of genuine traffic and 12 s idle, the end
after the same 12 s idle, so both follow one periodic `malloc_trim` (relay.edge.memory).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp

from relay.config import environment
from tests.names import unique_topology
from tests.payloads import BODIES
from tests.support.ports import free_port
from tests.tcp_proxy import FaultProxy

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*"))
CLIENT, SECRET = "sinch-client", "s3cret"
CALLBACKS = ("/sms", "/sms/incoming", "/sms/delivery-report")
NESTED = b'{"type":"mo_text","x":[' + (b"[" * 1000 + b"]" * 1000 + b",") * 520 + b"0]}"
LADDER = b'{"type":"mo_text","x":' + b"[1," * 250_000 + b"1" + b"]" * 250_000 + b"}"


class Run:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.statuses: Counter[int] = Counter()
        self.accepted = 0  # 2xx on a callback route: each must be held by the broker
        self.token = ""
        self.latencies: list[float] = []

    def note(self, path: str, status: int) -> None:
        self.statuses[status] += 1
        if path.split("?")[0] in CALLBACKS and 200 <= status < 300:
            self.accepted += 1

    async def post(self, http: aiohttp.ClientSession, path: str, body: bytes, **kw: Any) -> int:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        try:
            async with http.post(self.base + path, data=body, headers=headers, **kw) as r:
                await r.read()
                self.note(path, r.status)
                return r.status
        except aiohttp.ClientError:
            self.statuses[-1] += 1  # the relay closed the connection: no answer
            return -1

    async def raw(self, data: bytes, path: str = "/sms", wait: float = 2.0) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(data)
        try:
            answer = await asyncio.wait_for(reader.read(65536), wait)
        except (TimeoutError, ConnectionError):
            answer = b""
        writer.close()
        for line in answer.split(b"\r\n"):
            if line.startswith(b"HTTP/1.1 "):
                self.note(path, int(line.split()[1]))
        return answer


def head(path: str, *lines: bytes, auth: str = "") -> bytes:
    extra = b"".join(line + b"\r\n" for line in lines)
    bearer = f"Authorization: Bearer {auth}\r\n".encode() if auth else b""
    return b"POST %s HTTP/1.1\r\nHost: relay\r\n" % path.encode() + bearer + extra


async def framing(run: Run) -> None:
    body = BODIES["mo_text"]
    cases = [
        head(
            "/sms", b"Content-Length: %d" % len(body), b"Transfer-Encoding: chunked", auth=run.token
        )
        + b"\r\n0\r\n\r\n",
        head("/sms", b"Content-Length: 5", b"Content-Length: 6", auth=run.token) + b"\r\nhello",
        head("/sms", b"Transfer-Encoding: chunked", auth=run.token) + b"\r\nzz\r\nxx\r\n0\r\n\r\n",
        head("/sms", b"Transfer-Encoding: xchunked", auth=run.token) + b"\r\n",
        b"POST /sms HTTP/1.1\r\nHost: x\r\n X-Folded: y\r\nContent-Length: 2\r\n\r\n{}",
        b"GARBAGE\r\n\r\n",
        b"POST /sms HTTP/9.9\r\nHost: x\r\n\r\n",
        head(
            "/sms",
            b"User-Agent: Sinch\xe9\xff",
            b"tracestate: a=\xfe",
            b"Content-Length: %d" % len(body),
            auth=run.token,
        )
        + b"\r\n"
        + body,
        head("/sms", b"X-Big: " + b"a" * 20000, auth=run.token) + b"\r\n",
        (head("/sms", b"Content-Length: %d" % len(body), auth=run.token) + b"\r\n" + body) * 5,
    ]
    for data in cases * 3:
        await run.raw(data)


async def encodings(run: Run, http: aiohttp.ClientSession) -> None:
    body = BODIES["mo_text"]
    bomb = gzip.compress(b'{"type":"mo_text","x":"' + b"a" * (50 << 20) + b'"}')
    for encoding, data in [
        ("gzip", gzip.compress(body)),
        ("gzip", b"\x1f\x8bbroken"),
        ("deflate", b"x\x9cjunk"),
        ("gzip", bomb),
        ("br", b"\x00"),
        ("identity", body),
        ("gzip, gzip", gzip.compress(body)),
    ] * 3:
        await run.post(http, "/sms", data, headers={"Content-Encoding": encoding})


async def json_edges(run: Run, http: aiohttp.ClientSession) -> None:
    extra = [
        b"",
        b"{}",
        b"[]",
        b"null",
        b'{"type":1}',
        b'{"type":"mo_text"',
        b"\xff\xfe",
        b'{"type":"mo_text","x":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
        b'{"type":"mo_text","n":' + b"9" * 100_000 + b"}",
        b'{"type":"' + b"\\ud800" * 1000 + b'"}',
    ]
    for body in [p.read_bytes() for p in CORPUS] + extra + list(BODIES.values()):
        for path in CALLBACKS:
            await run.post(http, path, body)


async def paths(run: Run, http: aiohttp.ClientSession) -> None:
    body = BODIES["mo_text"]
    for path in [
        "/sms/",
        "//sms",
        "/SMS",
        "/sms/../sms",
        "/sms%2fincoming",
        "/sms?x=1",
        "/sms/incoming/extra",
        "/%00",
        "/oauth/token/../../sms",
        "/" + "a" * 9000,
    ]:
        await run.post(http, path, body)
    for path in ["/sms", "/healthz", "/metrics", "/asyncapi.json", "/nope"]:
        async with http.get(run.base + path) as r:
            run.note(path, r.status)


async def auth(run: Run, http: aiohttp.ClientSession) -> None:
    body = BODIES["mo_text"]
    for i in range(300):  # token brute force: 429 after the per-source limit
        form = {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": f"g{i}"}
        async with http.post(run.base + "/oauth/token", data=form) as r:
            run.note("/oauth/token", r.status)
    for header in ["Bearer nope", "Bearer " + "a" * 5000, "Basic !!", "", "Bearer a.b.c"]:
        for path in CALLBACKS:
            await run.post(http, path, body, headers={"Authorization": header})
    await run.post(http, "/sms", body, headers={"X-Forwarded-For": "192.0.2.7:4711"})


async def slow_clients(run: Run) -> None:
    """Stalled bodies, trickled headers and mid-body disconnects, all closed in the end."""
    stalled = []
    for i in range(200):
        _, writer = await asyncio.open_connection("127.0.0.1", run.port)
        declared = 1 << 20 if i % 2 else 4096
        writer.write(
            head("/sms", b"Content-Length: %d" % declared, auth=run.token)
            + b'\r\n{"type":"mo_text","x":"'
            + b"a" * 60000
        )
        stalled.append(writer)
    for _ in range(100):  # disconnect mid-body
        _, writer = await asyncio.open_connection("127.0.0.1", run.port)
        writer.write(head("/sms", b"Content-Length: 5000", auth=run.token) + b'\r\n{"ty')
        await writer.drain()
        writer.close()
    async with aiohttp.ClientSession() as http:  # genuine callbacks while they stall
        for _ in range(20):
            await run.post(http, "/sms/incoming", BODIES["mo_text"])
    await asyncio.sleep(3)
    for writer in stalled:
        writer.close()


async def parse_flood(run: Run) -> None:
    until = time.monotonic() + 5

    async def attack(body: bytes) -> None:
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < until:
                await run.post(http, "/sms", body)

    async def genuine() -> None:
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < until:
                started = time.monotonic()
                await run.post(http, "/sms/incoming", BODIES["mo_text"])
                run.latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.05)

    await asyncio.gather(genuine(), *(attack((NESTED, LADDER)[i % 2]) for i in range(16)))


async def genuine_load(run: Run, seconds: float, connections: int = 8) -> None:
    """Genuine delivery reports from `connections` clients for `seconds`."""
    until = time.monotonic() + seconds
    body = BODIES["recipient_delivery_report_sms"]

    async def load() -> None:
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < until:
                await run.post(http, "/sms/delivery-report", body)

    await asyncio.gather(*(load() for _ in range(connections)))


async def broker_cut(run: Run, proxy: FaultProxy) -> None:
    async def fault() -> None:
        await asyncio.sleep(2)
        proxy.cut()
        await asyncio.sleep(2)
        proxy.restore()

    await asyncio.gather(fault(), genuine_load(run, seconds=8))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def fetch_token(run: Run) -> None:
    form = {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET}
    async with (
        aiohttp.ClientSession() as http,
        http.post(run.base + "/oauth/token", data=form) as r,
    ):
        run.token = (await r.json())["access_token"]


async def main() -> int:
    amqp_url = os.environ["RELAY_TEST_AMQP_URL"]
    names = unique_topology("attack")
    proxy = FaultProxy(5672)
    await proxy.start()
    port = free_port()
    env = {
        **os.environ,
        **environment("topology", names),
        "RELAY_LOGGING_FORMAT": "json",
        "RELAY_AMQP_URL": proxy.url_for(amqp_url),
        "RELAY_AMQP_RECONNECT_INTERVAL": "0.2",
        "RELAY_SECURITY_OAUTH_ROUTES": ",".join(CALLBACKS),
        "RELAY_SECURITY_OAUTH_CLIENTS": f"{CLIENT}:{SECRET}",
        "RELAY_SECURITY_OAUTH_TOKEN_KEYS": "attack-key",
        "RELAY_SECURITY_TRUSTED_PROXIES": "127.0.0.1/32",
    }
    log = tempfile.NamedTemporaryFile(prefix="attack-relay-", suffix=".log", delete=False)  # noqa: SIM115
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "relay",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        stdout=log,
        stderr=log,
    )
    run = Run(port)
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    try:
        await _wait_ready(run.base)
        queue = await channel.declare_queue(f"{names.unrouted}.held", auto_delete=False)
        for exchange in (names.delivery_reports, names.inbound):
            await queue.bind(exchange, routing_key="#")
        await fetch_token(run)
        await genuine_load(run, seconds=5)  # steady state under normal traffic: the start
        await asyncio.sleep(12)
        rss_start = rss_mib(process.pid)
        phases = {"framing": framing(run)}
        async with aiohttp.ClientSession() as http:
            phases |= {
                "encodings": encodings(run, http),
                "json": json_edges(run, http),
                "paths": paths(run, http),
                "auth": auth(run, http),
            }
            for name, phase in phases.items():
                started = time.monotonic()
                await phase
                elapsed = time.monotonic() - started
                print(f"phase {name}: {elapsed:.1f}s rss {rss_mib(process.pid):.1f} MiB")
        for name, phase in {
            "slow": slow_clients(run),
            "parse_flood": parse_flood(run),
            "broker_cut": broker_cut(run, proxy),
        }.items():
            started = time.monotonic()
            await phase
            elapsed = time.monotonic() - started
            print(f"phase {name}: {elapsed:.1f}s rss {rss_mib(process.pid):.1f} MiB")
        await asyncio.sleep(12)  # past one malloc_trim period (relay.edge.memory)
        rss_end = rss_mib(process.pid)
        held_queue = await channel.declare_queue(queue.name, passive=True)
        unrouted = await channel.declare_queue(names.unrouted, passive=True)
        held = (held_queue.declaration_result.message_count or 0) + (
            unrouted.declaration_result.message_count or 0
        )
    finally:
        process.terminate()
        await process.wait()
        await _cleanup(channel, names, f"{names.unrouted}.held")
        await connection.close()
        await proxy.close()
    return _report(run, log.name, rss_start, rss_end, held)


def _report(run: Run, log_path: str, rss_start: float, rss_end: float, held: int) -> int:
    lines = Path(log_path).read_text(errors="replace").splitlines()
    errors = [line for line in lines if '"level":"error"' in line or line.startswith("ERROR")]
    tracebacks = sum(line.startswith("Traceback") for line in lines)
    latencies = sorted(run.latencies)
    figures = {
        "statuses": dict(sorted(run.statuses.items())),
        "requests": sum(run.statuses.values()),
        "relay_500": run.statuses[500],
        "error_level_lines": len(errors),
        "tracebacks_any_level": tracebacks,  # aiormq warns with one when the broker is cut
        "rss_mib_start": round(rss_start, 1),
        "rss_mib_end": round(rss_end, 1),
        "rss_change_pct": round(100 * (rss_end - rss_start) / rss_start, 1),
        "callback_2xx": run.accepted,
        "broker_held": held,
        "genuine_latency_ms_p50_max_under_flood": [
            round(1000 * latencies[len(latencies) // 2], 1),
            round(1000 * latencies[-1], 1),
        ]
        if latencies
        else None,
        "relay_log": log_path,
    }
    checks = {
        "no_relay_500": run.statuses[500] == 0,
        "no_error_level_lines": not errors,
        "every_2xx_held": held >= run.accepted,
        "rss_within_10_pct": rss_end <= rss_start * 1.10,
    }
    figures["checks"] = checks
    print(json.dumps(figures, indent=2))
    for line in errors[:5]:
        print("ERROR LINE:", line[:300])
    return 0 if all(checks.values()) else 1


async def _wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(20):
        while True:
            try:
                if (await http.get(f"{base}/readyz")).status == 200:
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


async def _cleanup(channel: aio_pika.abc.AbstractChannel, names: Any, held: str) -> None:
    for queue in (held, names.unrouted):
        await channel.queue_delete(queue)
    for exchange in (names.delivery_reports, names.inbound, names.unrouted):
        await channel.exchange_delete(exchange)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
