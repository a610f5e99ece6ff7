"""`relay simulate` against servers on 127.0.0.1: every type, signatures, pacing, summary."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import sys
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from relay.cli.simulate import Plan, Summary, simulate, target
from relay.config import Settings
from relay.contract.routing import FLOW_PATHS, ROUTES
from relay.edge.app import create_app
from tests.support.fakes import FakePublisher

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def _url(server: TestServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def test_all_seven_types_reach_the_relay_on_their_channel(
    aiohttp_server: ServerFactory,
) -> None:
    """Every type is accepted, published to its channel's exchange, none misrouted."""
    publisher = FakePublisher()
    server = await aiohttp_server(create_app(Settings(), publisher))
    summary = await simulate(Plan(_url(server), count=21, rate=500, seed=1))
    assert summary.statuses == {"200": 21}
    assert summary.ok
    types = [str(m.properties.message_type) for m in publisher.published]
    assert sorted(types) == sorted(list(ROUTES) * 3)
    assert not any(m.properties.headers.get("x-misrouted") for m in publisher.published)  # type: ignore[union-attr]


def _recording_app(
    seen: list[web.Request], bodies: list[bytes], delay: float = 0.0
) -> web.Application:
    async def record(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.read())
        await asyncio.sleep(delay)
        return web.Response(status=int(request.query.get("status", "200")))

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    return app


async def test_signed_callbacks_verify_as_sinch_signs(aiohttp_server: ServerFactory) -> None:
    """With --secret, each request carries a valid Sinch HMAC over body.nonce.timestamp."""
    seen: list[web.Request] = []
    bodies: list[bytes] = []
    server = await aiohttp_server(_recording_app(seen, bodies))
    await simulate(Plan(_url(server), count=7, rate=500, secret="s3cret"))
    assert len(seen) == 7
    for request, body in zip(seen, bodies, strict=True):
        h = request.headers
        message = b".".join(
            [
                body,
                h["x-sinch-webhook-signature-nonce"].encode(),
                h["x-sinch-webhook-signature-timestamp"].encode(),
            ]
        )
        expected = base64.b64encode(hmac.new(b"s3cret", message, hashlib.sha256).digest())
        assert h["x-sinch-webhook-signature"].encode() == expected
        assert h["x-sinch-webhook-signature-algorithm"] == "HmacSHA256"


async def test_unsigned_without_secret(aiohttp_server: ServerFactory) -> None:
    """Without --secret no signature headers are sent."""
    seen: list[web.Request] = []
    server = await aiohttp_server(_recording_app(seen, []))
    await simulate(Plan(_url(server), count=3, rate=500))
    assert not any("x-sinch-webhook-signature" in r.headers for r in seen)


async def test_concurrency_is_bounded(aiohttp_server: ServerFactory) -> None:
    """No more than --concurrency requests are in flight at once."""
    active, peak = 0, 0

    async def slow(_: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        return web.Response()

    app = web.Application()
    app.router.add_post("/{tail:.*}", slow)
    server = await aiohttp_server(app)
    summary = await simulate(Plan(_url(server), count=12, rate=1000, concurrency=3))
    assert summary.statuses == {"200": 12}
    assert peak == 3


async def test_rate_paces_the_requests(aiohttp_server: ServerFactory) -> None:
    """Ten callbacks at 20/s cannot finish before the tenth is due (0.45 s)."""
    server = await aiohttp_server(_recording_app([], []))
    summary = await simulate(Plan(_url(server), count=10, rate=20))
    assert summary.elapsed >= 0.45


async def test_failures_are_counted_not_hidden(aiohttp_server: ServerFactory) -> None:
    """Non-2xx answers and refused connections show in the summary and make it not ok."""
    server = await aiohttp_server(_recording_app([], []))
    url = _url(server)
    summary = await simulate(Plan(f"{url}/sms?status=503", count=4, rate=500))
    assert summary.statuses == {"503": 4}
    assert not summary.ok
    await server.close()
    refused = await simulate(Plan(url, count=2, rate=500, timeout=2))
    assert refused.statuses == {"ClientConnectorError": 2}


def test_base_url_routes_each_type_to_its_channel_path() -> None:
    """A bare base URL gets the channel path; a URL with a path is used as is."""
    for type_, channel in ROUTES.items():
        assert target("http://127.0.0.1:1", type_) == "http://127.0.0.1:1" + FLOW_PATHS[channel]
        assert target("http://127.0.0.1:1/sms", type_) == "http://127.0.0.1:1/sms"


def test_summary_percentiles_are_nearest_rank() -> None:
    """p50/p99/max of 1..100 ms are 50, 99 and 100 ms."""
    summary = Summary(latencies=[i / 1000 for i in range(100, 0, -1)])
    assert (summary.percentile(50), summary.percentile(99), summary.percentile(100)) == (
        0.05,
        0.099,
        0.1,
    )


async def test_cli_prints_progress_and_summary(aiohttp_server: ServerFactory) -> None:
    """`relay simulate` exits 0, draws progress on stderr and summarises on stdout."""
    server = await aiohttp_server(create_app(Settings(), FakePublisher()))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "relay",
        "simulate",
        "--url",
        _url(server),
        "--count",
        "14",
        "--rate",
        "200",
        "--secret",
        "x",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "\r" not in err.decode()  # piped stderr: no progress bar
    assert "status  200: 14" in out.decode()
    assert "p99" in out.decode()


@pytest.mark.parametrize("args", [["--count", "0"], ["--rate", "0"], ["--count", "2000000"]])
def test_cli_refuses_unbounded_runs(args: list[str]) -> None:
    """Zero or huge counts and a zero rate are rejected before anything is sent."""
    from relay.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--url", "http://127.0.0.1:1", *args])
    assert exit_.value.code == 2
