"""`relay simulate` against servers on 127.0.0.1: every type, signatures, pacing, summary."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import pty
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from relay.cli.simulate import Plan, Summary, simulate, target
from relay.config import Settings
from relay.contract.routing import FLOW_PATHS, ROUTES
from relay.edge.app import create_app
from tests.support.fakes import FakePublisher
from tests.support.terminal import read_all

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


async def _cli(url: str, *args: str, **env: str) -> tuple[int | None, str, str]:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "relay", "simulate", "--url", url, *args),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, out.decode(), err.decode()


async def test_cli_summarises_without_a_progress_bar_off_a_terminal(
    aiohttp_server: ServerFactory,
) -> None:
    """Piped, `relay simulate` exits 0 with the summary on stdout and no bar on stderr."""
    server = await aiohttp_server(create_app(Settings(), FakePublisher()))
    code, out, err = await _cli(_url(server), "--count", "14", "--rate", "200", "--secret", "x")
    assert code == 0, err
    assert err == ""
    assert out.startswith("sent 14 of 14 in ")
    assert "status  200: 14" in out
    assert "p99" in out


async def test_cli_draws_the_progress_bar_on_a_terminal(aiohttp_server: ServerFactory) -> None:
    """With a terminal on stderr the bar is drawn there, ending at count/count."""
    server = await aiohttp_server(create_app(Settings(), FakePublisher()))
    leader, follower = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "relay", "simulate", "--url", _url(server)),
        *("--count", "7", "--rate", "200"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    drawn = await asyncio.get_running_loop().run_in_executor(None, read_all, leader)
    assert await asyncio.wait_for(process.wait(), 30) == 0
    assert "[##############################] 7/7" in drawn.decode()


def test_a_url_without_a_scheme_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    """`--url 127.0.0.1:8080` used to fail every request; now argparse says why, exit 2."""
    from relay.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--url", "127.0.0.1:8080"])
    assert exit_.value.code == 2
    assert "'127.0.0.1:8080' is not an http:// or https:// URL" in capsys.readouterr().err


async def test_sent_counts_only_requests_that_were_answered(
    aiohttp_server: ServerFactory,
) -> None:
    """Refused connections are failures by name, never "sent"."""
    server = await aiohttp_server(_recording_app([], []))
    url = _url(server)
    await server.close()
    summary = await simulate(Plan(url, count=3, rate=500, timeout=2))
    assert summary.sent == 0
    assert summary.render().startswith("sent 0 of 3 in ")
    assert "ClientConnectorError: 3" in summary.render()


async def test_the_secret_comes_from_the_environment(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    """RELAY_SIMULATE_SECRET (or --secret-env/--secret-file) signs; argv holds no secret."""
    seen: list[web.Request] = []
    bodies: list[bytes] = []
    server = await aiohttp_server(_recording_app(seen, bodies))
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n", encoding="utf-8")
    runs = [
        ((), {"RELAY_SIMULATE_SECRET": "from-default"}, "from-default"),
        (("--secret-env", "MY_KEY"), {"MY_KEY": "from-env"}, "from-env"),
        (("--secret-file", str(secret_file)), {}, "from-file"),
    ]
    for args, env, secret in runs:
        seen.clear()
        bodies.clear()
        code, _, err = await _cli(_url(server), "--count", "2", "--rate", "200", *args, **env)
        assert code == 0, err
        assert [_signed_with(r, b) for r, b in zip(seen, bodies, strict=True)] == [secret] * 2


def _signed_with(request: web.Request, body: bytes) -> str:
    h = request.headers
    for candidate in ("from-default", "from-env", "from-file"):
        message = b".".join(
            [
                body,
                h["x-sinch-webhook-signature-nonce"].encode(),
                h["x-sinch-webhook-signature-timestamp"].encode(),
            ]
        )
        digest = hmac.new(candidate.encode(), message, hashlib.sha256).digest()
        if base64.b64encode(digest).decode() == h["x-sinch-webhook-signature"]:
            return candidate
    return "none"


async def test_a_named_secret_variable_that_is_unset_is_an_error(
    aiohttp_server: ServerFactory,
) -> None:
    """--secret-env NAME with NAME unset: one line, exit 2, nothing sent unsigned."""
    seen: list[web.Request] = []
    server = await aiohttp_server(_recording_app(seen, []))
    code, _, err = await _cli(_url(server), "--secret-env", "RELAY_SIMULATE_UNSET_X")
    assert code == 2
    assert err.endswith("--secret-env RELAY_SIMULATE_UNSET_X: the variable is not set or empty\n")
    assert seen == []


async def test_simulate_ignores_an_unrelated_bad_setting(aiohttp_server: ServerFactory) -> None:
    """It reads no settings, so RELAY_HTTP_PORT=x does not stop it."""
    server = await aiohttp_server(create_app(Settings(), FakePublisher()))
    code, out, err = await _cli(_url(server), "--count", "7", "--rate", "200", RELAY_HTTP_PORT="x")
    assert code == 0, err
    assert "status  200: 7" in out


@pytest.mark.parametrize("args", [["--count", "0"], ["--rate", "0"], ["--count", "2000000"]])
def test_cli_refuses_unbounded_runs(args: list[str]) -> None:
    """Zero or huge counts and a zero rate are rejected before anything is sent."""
    from relay.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--url", "http://127.0.0.1:1", *args])
    assert exit_.value.code == 2
