"""Callbacks answered without aiohttp's router answer exactly as the router's path would.

Each scenario runs twice through the real factory: once as built (callback POSTs go
straight to their handler) and once with the adapter switched off (every request through
the router and the middleware). Status, headers, body, the canonical log line and the
request counter must be the same, byte for byte, except the Date and the latency.
"""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import generate_latest
from structlog.testing import capture_logs

from relay.config import HttpSettings, SecuritySettings, Settings
from relay.edge import _aiohttp
from relay.edge.app import create_app
from relay.edge.auth import CALLBACK_PATHS
from relay.edge.keys import LIFECYCLE, METRICS
from tests.payloads import BODIES
from tests.security.conftest import secrets
from tests.support.fakes import FakePublisher

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
BIG = b'{"type":"mo_text","pad":"' + b"x" * 5000 + b'"}'


class Seen(NamedTuple):
    """What a client and an operator see of one request."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    lines: list[dict[str, Any]]
    metrics: list[str]


class Scenario(NamedTuple):
    method: str
    path: str
    body: bytes = BODIES["mo_text"]
    headers: Mapping[str, str] = MappingProxyType({})
    fail: BaseException | None = None
    draining: bool = False
    security: Mapping[str, Any] = MappingProxyType({})


BASIC = {"basic_routes": CALLBACK_PATHS, "basic_credentials": secrets("a:b")}
HMAC = {"hmac_routes": CALLBACK_PATHS, "hmac_secrets": secrets("s")}
SCENARIOS = {
    "accepted": Scenario("POST", "/sms"),
    "query string": Scenario("POST", "/sms/incoming?x=1"),
    "expect 100-continue": Scenario("POST", "/sms", headers={"Expect": "100-continue"}),
    "bad json": Scenario("POST", "/sms", b"nope"),
    "encoded body": Scenario(
        "POST", "/sms", gzip.compress(BODIES["mo_text"]), {"Content-Encoding": "gzip"}
    ),
    "over client_max_size": Scenario("POST", "/sms", BIG),
    "broker trouble": Scenario("POST", "/sms", fail=ConnectionError()),
    "unexpected error": Scenario("POST", "/sms", fail=ZeroDivisionError()),
    "draining": Scenario("POST", "/sms", draining=True),
    "wrong method": Scenario("GET", "/sms"),
    "unknown path": Scenario("POST", "/sms/"),
    "percent-encoded path": Scenario("POST", "/sms/%69ncoming"),
    "no credentials": Scenario("POST", "/sms", security=BASIC),
    "no signature": Scenario("POST", "/sms", security=HMAC),
}


async def _see(aiohttp_client: ClientFactory, scenario: Scenario) -> Seen:
    publisher = FakePublisher(fail=scenario.fail)
    settings = Settings(
        http=HttpSettings(max_body_bytes=4096), security=SecuritySettings(**scenario.security)
    )
    headers = {"X-Request-Id": "req-1", "traceparent": TRACEPARENT, **scenario.headers}
    with capture_logs() as logs:  # the app's start-up lines too (the fallback's warning)
        app = create_app(settings, publisher)
        app[LIFECYCLE].draining = scenario.draining
        client = await aiohttp_client(app)
        response = await client.request(
            scenario.method, scenario.path, data=scenario.body, headers=headers
        )
        body = await response.read()
    lines = [dict(e, latency_ms=0) for e in logs if e["event"] == "http.request"]
    kept = [(k, v) for k, v in response.headers.items() if k != "Date"]
    return Seen(response.status, kept, body, lines, _requests_total(app))


def _requests_total(app: web.Application) -> list[str]:
    text = generate_latest(app[METRICS].registry).decode()
    return [line for line in text.splitlines() if line.startswith("relay_requests_total{")]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_the_direct_path_answers_as_the_router_would(
    aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Same status, headers, body, log line and counter with the dispatcher off."""
    direct = await _see(aiohttp_client, SCENARIOS[name])
    monkeypatch.setattr(_aiohttp, "SUPPORTED", False)
    routed = await _see(aiohttp_client, SCENARIOS[name])
    assert direct == routed
    assert len(direct.lines) == 1


async def test_a_callback_is_answered_without_the_router(
    aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what is not a callback POST is resolved by the router."""
    resolved: list[str] = []
    resolve = web.UrlDispatcher.resolve

    async def counting(self: web.UrlDispatcher, request: web.Request) -> Any:
        resolved.append(f"{request.method} {request.path}")
        return await resolve(self, request)

    monkeypatch.setattr(web.UrlDispatcher, "resolve", counting)
    client = await aiohttp_client(create_app(Settings(), FakePublisher()))
    for path in ("/sms", "/sms/delivery-report", "/sms/incoming"):
        assert (await client.post(path, data=BODIES["mo_text"])).status == 200
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/sms")).status == 405
    assert resolved == ["GET /healthz", "GET /sms"]


def test_an_unverified_aiohttp_keeps_the_router_with_one_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside `VERIFIED`, the app is built as before and says so once."""
    monkeypatch.setattr(_aiohttp, "SUPPORTED", False)
    with capture_logs() as logs:
        create_app(Settings(), FakePublisher())
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == ["http.router_fallback"]
