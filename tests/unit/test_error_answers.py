"""Every refusal on the running app answers one JSON shape, `{"error", "request_id"}`, with
a short machine-readable `reason` where the client can act on it; one log line each."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from relay.config import HttpSettings, SecuritySettings, Settings
from relay.edge.app import create_app
from relay.edge.auth import CALLBACK_PATHS
from tests.security.conftest import MO_TEXT, secrets
from tests.support.fakes import FakePublisher

Client = TestClient[Any, Any]


async def _client(aiohttp_client: Any, **security: Any) -> tuple[Client, FakePublisher]:
    publisher = FakePublisher()
    http, security_settings = HttpSettings(max_body_bytes=4096), SecuritySettings(**security)
    settings = Settings(http=http, security=security_settings)
    return await aiohttp_client(create_app(settings, publisher)), publisher


async def _answer(response: Any) -> dict[str, Any]:
    """The JSON body, checked for the shape every error answer shares."""
    assert response.content_type == "application/json"
    answer: dict[str, Any] = await response.json()
    assert answer["request_id"] == response.headers["X-Request-Id"]
    assert set(answer) <= {"error", "reason", "request_id"}
    return answer


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "invalid_json"),
        (b"nope", "invalid_json"),
        (b'{"type":"mo_text"', "invalid_json"),
        (b'{"type":"\xff"}', "invalid_json"),
        (b"[]", "not_an_object"),
        (b"{}", "missing_type"),
        (b'{"type":3}', "type_not_a_string"),
        (b'{"type":null}', "type_not_a_string"),
    ],
)
async def test_a_400_says_what_was_wrong(aiohttp_client: Any, body: bytes, reason: str) -> None:
    client, publisher = await _client(aiohttp_client)
    response = await client.post("/sms", data=body)
    assert response.status == 400
    assert await _answer(response) == {
        "error": "bad_request",
        "reason": reason,
        "request_id": response.headers["X-Request-Id"],
    }
    assert publisher.published == []


@pytest.mark.parametrize(
    ("method", "path", "status", "error", "reason"),
    [
        ("POST", "/nope", 404, "not_found", "unknown_path"),
        ("POST", "/sms/incoming/extra", 404, "not_found", "unknown_path"),
        ("GET", "/sms", 405, "method_not_allowed", "allowed:POST"),
        ("PUT", "/sms/delivery-report", 405, "method_not_allowed", "allowed:POST"),
        ("POST", "/healthz", 405, "method_not_allowed", "allowed:GET,HEAD"),
    ],
)
async def test_aiohttp_refusals_answer_the_same_shape(
    aiohttp_client: Any, method: str, path: str, status: int, error: str, reason: str
) -> None:
    """Unknown path and wrong method: our JSON, not aiohttp's text; `Allow` kept."""
    client, _ = await _client(aiohttp_client)
    response = await client.request(method, path, data=MO_TEXT)
    assert response.status == status
    answer = await _answer(response)
    assert (answer["error"], answer["reason"]) == (error, reason)
    if status == 405:
        assert response.headers["Allow"] == reason.removeprefix("allowed:")


async def test_a_body_over_the_app_limit_is_a_413_in_the_same_shape(aiohttp_client: Any) -> None:
    """aiohttp's client_max_size, hit while the body is read."""
    client, publisher = await _client(aiohttp_client)
    response = await client.post("/sms", data=b'{"type":"mo_text","pad":"' + b"x" * 5000 + b'"}')
    assert response.status == 413
    answer = await _answer(response)
    assert (answer["error"], answer["reason"]) == ("body_too_large", "body_over_limit")
    assert publisher.published == []


async def test_a_body_over_a_route_limit_is_a_413_in_the_same_shape(aiohttp_client: Any) -> None:
    """A per-channel limit, checked by the route's guard from `Content-Length`."""
    client, publisher = await _client(aiohttp_client, max_body_bytes_inbound=1024)
    response = await client.post("/sms/incoming", data=MO_TEXT + b" " * 2000)
    assert response.status == 413
    assert (await _answer(response))["error"] == "body_too_large"
    assert publisher.published == []


async def test_refusals_of_credentials_give_no_reason(aiohttp_client: Any) -> None:
    """401 says `unauthorized` and nothing more: the reason would guide a forger."""
    hmac = {"hmac_routes": CALLBACK_PATHS, "hmac_secrets": secrets("s")}
    client, _ = await _client(aiohttp_client, **hmac)
    response = await client.post("/sms", data=MO_TEXT)
    assert response.status == 401
    assert "reason" not in await _answer(response)


async def test_an_unknown_path_is_one_log_line_with_its_error(aiohttp_client: Any) -> None:
    client, _ = await _client(aiohttp_client)
    with capture_logs() as logs:
        response = await client.post("/nope", data=MO_TEXT)
    [line] = [e for e in logs if e["event"] == "http.request"]
    assert (line["status"], line["error"], line["path"]) == (404, "not_found", "unmatched")
    assert line["request_id"] == response.headers["X-Request-Id"]
