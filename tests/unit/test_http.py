"""The HTTP edge against a fake publisher: status codes, what is published, the log line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from relay.config import ConfigError, HttpSettings, Settings, load_settings
from relay.edge.app import create_app
from relay.edge.keys import LIFECYCLE
from relay.errors import (
    BrokerBlocked,
    ConfirmTimeout,
    Nacked,
    Overloaded,
    RelayError,
    Unavailable,
)
from tests.payloads import BODIES
from tests.support.fakes import FakePublisher, headers_of

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
async def client(aiohttp_client: ClientFactory, publisher: FakePublisher) -> Client:
    settings = Settings(http=HttpSettings(max_body_bytes=4096))
    return await aiohttp_client(create_app(settings, publisher))


@pytest.mark.parametrize("type_", sorted(BODIES))
@pytest.mark.parametrize("path", ["/sms", "/sms/delivery-report", "/sms/incoming"])
async def test_every_type_is_accepted_on_every_url(
    client: Client,
    publisher: FakePublisher,
    path: str,
    type_: str,
) -> None:
    """Routing follows the payload's type, whatever URL Sinch was given."""
    response = await client.post(path, data=BODIES[type_])
    assert response.status == 200
    (message,) = publisher.published
    assert message.body == BODIES[type_]
    assert message.routing_key == type_


async def test_a_type_on_the_other_channels_url_is_flagged_misrouted(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """An inbound message posted to the delivery-report URL is published, marked misrouted."""
    with capture_logs() as logs:
        response = await client.post("/sms/delivery-report", data=BODIES["mo_text"])
    assert response.status == 200
    assert publisher.published[0].exchange == "sinch.sms.inbound"
    assert headers_of(publisher.published[0])["x-misrouted"] is True
    assert [e.get("misrouted") for e in logs if e["event"] == "http.request"] == [True]
    metrics = await (await client.get("/metrics")).text()
    assert 'relay_misrouted_total{type="mo_text"} 1.0' in metrics


async def test_no_misrouted_flag_on_the_right_url_or_the_catch_all(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """/sms promises nothing, /sms/incoming promises inbound: neither is misrouted."""
    await client.post("/sms", data=BODIES["mo_text"])
    await client.post("/sms/incoming", data=BODIES["mo_text"])
    assert all("x-misrouted" not in headers_of(m) for m in publisher.published)


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b"{}", b'{"type":3}'])
async def test_malformed_bodies_get_400_and_nothing_is_published(
    client: Client,
    publisher: FakePublisher,
    body: bytes,
) -> None:
    """A body that can never be relayed is the only 4xx for content."""
    response = await client.post("/sms", data=body)
    assert response.status == 400
    assert (await response.json())["error"] == "bad_request"
    assert publisher.published == []


async def test_unknown_and_invalid_types_are_accepted_and_sent_to_unrouted(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """2xx plus a header saying why: Sinch would drop them for good on a 4xx."""
    assert (await client.post("/sms", data=b'{"type":"new_kind"}')).status == 200
    assert (await client.post("/sms", data=b'{"type":"mo_text","id":"x"}')).status == 200
    reasons = [headers_of(m)["x-unrouted-reason"] for m in publisher.published]
    assert reasons == ["unknown_type", "missing_field:from"]
    assert {m.exchange for m in publisher.published} == {"sinch.sms.unrouted"}


async def test_content_type_is_never_a_reason_to_reject(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """Sinch does not document its Content-Type; text/plain must work."""
    response = await client.post(
        "/sms", data=BODIES["mo_text"], headers={"Content-Type": "text/plain"}
    )
    assert response.status == 200
    assert len(publisher.published) == 1


async def test_a_body_over_the_limit_gets_413_and_nothing_is_published(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """The configured body limit (4 KiB here) is enforced before parsing."""
    response = await client.post("/sms", data=b'{"type":"mo_text","pad":"' + b"x" * 5000 + b'"}')
    assert response.status == 413
    assert publisher.published == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Unavailable(), 503),
        (ConfirmTimeout(), 503),
        (Nacked(), 503),
        (BrokerBlocked(), 429),
        (Overloaded(), 429),
    ],
)
async def test_broker_trouble_maps_to_a_status_sinch_retries(
    client: Client,
    publisher: FakePublisher,
    error: RelayError,
    status: int,
) -> None:
    """Transient conditions are 503 or 429 with Retry-After, never another 4xx or a 2xx."""
    publisher.fail = error
    response = await client.post("/sms", data=BODIES["mo_text"])
    assert response.status == status
    assert response.headers["Retry-After"] == "5"
    assert (await response.json())["error"] == error.code


async def test_an_unexpected_error_is_a_500_so_sinch_retries(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """A bug must cost a retry, not a callback."""
    publisher.fail = ZeroDivisionError()
    response = await client.post("/sms", data=BODIES["mo_text"])
    assert response.status == 500


async def test_draining_relay_answers_503_and_is_not_ready(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """After SIGTERM new callbacks are refused with a status Sinch retries."""
    client.app[LIFECYCLE].draining = True
    assert (await client.post("/sms", data=BODIES["mo_text"])).status == 503
    assert (await client.get("/readyz")).status == 503
    assert publisher.published == []


async def test_readiness_follows_the_publisher(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """/readyz is 503 while the broker is not usable; /healthz stays 200."""
    assert (await client.get("/readyz")).status == 200
    publisher.ready = False
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["connected"] is False
    assert (await client.get("/healthz")).status == 200


async def test_one_canonical_log_line_per_request_without_body_or_numbers(
    client: Client,
) -> None:
    """Request id, type, routing key, status and latency; no body, no phone number."""
    with capture_logs() as logs:
        await client.post(
            "/sms", data=BODIES["recipient_delivery_report_sms"], headers={"X-Request-Id": "req-42"}
        )
    (line,) = [e for e in logs if e["event"] == "http.request"]
    assert line["request_id"] == "req-42"
    assert line["status"] == 200
    assert line["routing_key"] == "recipient_delivery_report_sms"
    assert isinstance(line["latency_ms"], float)
    assert "33662162466" not in orjson.dumps(logs).decode()


@pytest.mark.parametrize(
    "leaking", ["Authorization", "cookie", "Proxy-Authorization", "x-sinch-webhook-signature-nonce"]
)
def test_an_allowlist_naming_a_credential_header_stops_start_up(leaking: str) -> None:
    """Credentials and signatures can never be configured into AMQP headers."""
    with pytest.raises(ConfigError, match=r"http\.forward_headers.*never forwarded"):
        HttpSettings(forward_headers=("user-agent", leaking))
    with pytest.raises(ConfigError, match=r"http\.forward_headers"):
        load_settings(None, {"RELAY_HTTP_FORWARD_HEADERS": f"user-agent,{leaking}"})


async def test_allowlisted_headers_are_forwarded_and_credentials_are_not(
    aiohttp_client: ClientFactory, publisher: FakePublisher
) -> None:
    """Only allowlisted headers travel, lower-cased, whatever else the request carries."""
    app = create_app(Settings(http=HttpSettings(forward_headers=("User-Agent",))), publisher)
    client = await aiohttp_client(app)
    await client.post(
        "/sms",
        data=BODIES["mo_text"],
        headers={
            "Authorization": "Basic c2VjcmV0",
            "x-sinch-webhook-signature": "sig",
            "User-Agent": "Sinch",
        },
    )
    headers = headers_of(publisher.published[0])
    assert headers["http-user-agent"] == "Sinch"
    assert not any("authorization" in k or "signature" in k for k in headers)


async def test_message_properties_carry_type_id_and_persistence(
    client: Client,
    publisher: FakePublisher,
) -> None:
    """Persistent, JSON, typed, uniquely identified, timestamped, with a dedup key."""
    await client.post("/sms", data=BODIES["mo_binary"])
    await client.post("/sms", data=BODIES["mo_binary"])
    first, second = (m.properties for m in publisher.published)
    assert (first.delivery_mode, first.content_type, first.message_type) == (
        2,
        "application/json",
        "mo_binary",
    )
    assert first.message_id != second.message_id
    assert first.timestamp is not None
    assert (first.headers or {})["x-dedup-key"] == (second.headers or {})["x-dedup-key"]
