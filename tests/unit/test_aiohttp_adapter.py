"""The aiohttp adapter against a real app, test server and `web.AppRunner`, no stubs.

The adapter swaps the request handler aiohttp's servers call and binds a prebuilt match
info to a request. If an aiohttp upgrade stops calling `Application._handle`, or reads a
request's route from anywhere but `_match_info`, these fail (and `VERIFIED` must not
name that version: the dispatcher then stays off and the router serves every route).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from relay.edge import _aiohttp

Seen = list[tuple[str, web.Request]]


def _app(seen: Seen) -> tuple[web.Application, web.AbstractRoute]:
    """An app with one POST route, bound directly, and one GET route left to the router."""
    app = web.Application()

    async def callback(request: web.Request) -> web.Response:
        seen.append(("callback", request))
        return web.Response(text="callback")

    async def other(request: web.Request) -> web.Response:
        seen.append(("other", request))
        return web.Response(text="other")

    route = app.router.add_post("/cb", callback)
    app.router.add_get("/other", other)
    routed = _aiohttp.routed(app)
    match = _aiohttp.match_for(app, route)

    def handle(request: web.Request) -> Awaitable[web.StreamResponse]:
        if request.method == "POST" and request.path == "/cb":
            seen.append(("direct", request))
            _aiohttp.bind(request, match)
            return route.handler(request)
        seen.append(("routed", request))
        return routed(request)

    assert _aiohttp.install(app, handle)
    return app, route


async def test_the_test_server_calls_the_installed_handler_for_every_request(
    aiohttp_client: Any,
) -> None:
    """Direct for the bound route; the router, with its 404 and 405, for the rest."""
    seen: Seen = []
    app, _ = _app(seen)
    client = await aiohttp_client(app)
    assert (await client.post("/cb")).status == 200
    assert (await client.get("/other")).status == 200
    assert (await client.get("/missing")).status == 404
    wrong_method = await client.get("/cb")
    assert (wrong_method.status, wrong_method.headers["Allow"]) == (405, "POST")
    kinds = [kind for kind, _ in seen]
    assert kinds == ["direct", "callback", "routed", "other", "routed", "routed"]


async def test_an_app_runner_calls_the_installed_handler() -> None:
    """`relay serve`'s way in (AppRunner, TCPSite) takes the same handler."""
    seen: Seen = []
    app, _ = _app(seen)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/cb") as response,
        ):
            assert (response.status, await response.text()) == (200, "callback")
    finally:
        await runner.cleanup()
    assert [kind for kind, _ in seen] == ["direct", "callback"]


async def test_a_bound_request_has_its_app_route_and_prepare_signal(aiohttp_client: Any) -> None:
    """What the router would give: `request.app`, `match_info` and on_response_prepare."""
    seen: Seen = []
    app, route = _app(seen)
    prepared: list[web.Request] = []

    async def on_prepare(request: web.Request, _: web.StreamResponse) -> None:
        prepared.append(request)

    app.on_response_prepare.append(on_prepare)
    client = await aiohttp_client(app)
    for _ in range(2):  # the one shared match info serves request after request
        assert (await client.post("/cb?query=ignored")).status == 200
    requests = [request for kind, request in seen if kind == "callback"]
    assert prepared == requests
    for request in requests:
        assert request.app is app
        assert request.match_info.route is route
        assert dict(request.match_info) == {}
        assert request.match_info.apps == (app,)
        resource = request.match_info.route.resource
        assert resource is not None
        assert resource.canonical == "/cb"


def test_a_bound_match_info_is_frozen() -> None:
    """Shared by every request of its route, so nothing may push an app onto it."""
    app = web.Application()
    match = _aiohttp.match_for(app, app.router.add_post("/cb", _unused))
    with pytest.raises(RuntimeError):
        match.add_app(web.Application())


def test_the_installed_aiohttp_is_a_verified_version() -> None:
    """The guard's set names the installed minor version."""
    assert _aiohttp.minor("3.14.5") == "3.14"
    assert _aiohttp.SUPPORTED, (_aiohttp.INSTALLED, _aiohttp.VERIFIED)


async def test_an_unverified_aiohttp_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, aiohttp_client: Any
) -> None:
    """`install` refuses, and the app's own handler serves every request."""
    monkeypatch.setattr(_aiohttp, "SUPPORTED", False)
    app = web.Application()
    app.router.add_post("/cb", _unused)
    assert not _aiohttp.install(app, _aiohttp.routed(web.Application()))
    assert _aiohttp.routed(app) == app._handle


async def _unused(_: web.Request) -> web.Response:
    return web.Response()


ACCEPTED = b'{"status":"accepted"}'


def _answers() -> web.Application:
    """The same 200 as aiohttp builds it (/plain) and from the prebuilt head (/prebuilt)."""
    app = web.Application()

    async def plain(_: web.Request) -> web.Response:
        response = web.Response(body=ACCEPTED, content_type="application/json")
        response.headers["X-Request-Id"] = "req-1"
        return response

    async def prebuilt(_: web.Request) -> web.Response:
        response = _aiohttp.JsonOk(body=ACCEPTED, content_type="application/json")
        response.headers["X-Request-Id"] = "req-1"
        return response

    app.router.add_post("/plain", plain)
    app.router.add_post("/prebuilt", prebuilt)
    return app


async def _raw(port: int, request: bytes) -> bytes:
    """Everything the server writes for one request, the connection closed after it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.endswith(ACCEPTED):
        chunk = await asyncio.wait_for(reader.read(65536), 5)
        if not chunk:
            break
        answer += chunk
    writer.close()
    return b"\r\n".join(line for line in answer.split(b"\r\n") if not line.startswith(b"Date:"))


@pytest.mark.parametrize(
    "first_line",
    [b"POST {} HTTP/1.1", b"POST {} HTTP/1.0", b"POST {} HTTP/1.1\r\nConnection: close"],
)
async def test_a_prebuilt_head_is_the_bytes_aiohttp_writes(
    aiohttp_server: Any, first_line: bytes
) -> None:
    """Same bytes on the wire as `web.Response` (but the Date), kept alive or not."""
    server = await aiohttp_server(_answers())
    answers = []
    for path in (b"/plain", b"/prebuilt"):
        head = first_line.replace(b"{}", path) + b"\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        answers.append(await _raw(server.port, head))
    assert answers[0] == answers[1]
    assert answers[0].startswith(b"HTTP/1.")
    assert b"X-Request-Id: req-1" in answers[0]


async def test_a_kept_alive_200_skips_aiohttps_serializer(
    aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prebuilt head is really used where it can be: HTTP/1.1, kept alive."""
    serialized: list[int] = []
    write_headers = web.StreamResponse._write_headers

    async def counting(self: web.StreamResponse) -> None:
        serialized.append(self.status)
        await write_headers(self)

    monkeypatch.setattr(web.StreamResponse, "_write_headers", counting)
    server = await aiohttp_server(_answers())
    request = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    await _raw(server.port, request % b"/prebuilt")
    assert serialized == []
    await _raw(server.port, request % b"/plain")
    assert serialized == [200]
