"""Fixtures for edge-security tests: the real app factory with the fake publisher."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from relay.config import Secret, SecuritySettings, Settings
from relay.edge.app import create_app
from relay.edge.auth.signature import signature
from tests.support.fakes import FakePublisher

# Sinch's published known-answer vector (docs/sinch.md, section 3).
VECTOR_SECRET = "SMSWebhooksSecret"
VECTOR_NONCE = "01JHFFHWYY7HSS4FWTMDTQEK8V"
VECTOR_TIMESTAMP = "1736760161"
VECTOR_SIGNATURE = "ZoHei66PPN/kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0="
VECTOR_BODY = (
    b'{"at":"2025-01-13T09:22:40.914Z","batch_id":"01JHFFHQ0P99JPPNQPJDV7JTBP",'
    b'"client_reference":"a client reference","code":0,'
    b'"operator_status_at":"2025-01-13T09:22:00Z","recipient":"33662162466",'
    b'"status":"Delivered","type":"recipient_delivery_report_sms"}'
)
MO_TEXT = (
    b'{"type":"mo_text","id":"01J0","from":"46700000001","to":"12345",'
    b'"body":"hi","received_at":"2025-01-13T09:22:40Z"}'
)


class FixedClock:
    def __init__(self, now: float) -> None:
        self.value = now

    def now(self) -> float:
        return self.value


def secrets(*values: str) -> tuple[Secret, ...]:
    return tuple(Secret(v) for v in values)


def signed(secret: str, body: bytes, nonce: str, at: float | None = None) -> dict[str, str]:
    """Headers of a callback signed as Sinch does, at `at` (default: now)."""
    timestamp = str(int(time.time() if at is None else at))
    return {
        "x-sinch-webhook-signature": signature(secret, body, nonce, timestamp),
        "x-sinch-webhook-signature-nonce": nonce,
        "x-sinch-webhook-signature-timestamp": timestamp,
        "x-sinch-webhook-signature-algorithm": "HmacSHA256",
    }


Relay = tuple[TestClient[Any, Any], FakePublisher]
RelayFactory = Callable[..., Awaitable[Relay]]


@pytest.fixture
def relay(aiohttp_client: Any) -> RelayFactory:
    """Start the real app with `SecuritySettings(**kwargs)` and a fake publisher."""

    async def start(**kwargs: Any) -> Relay:
        publisher = FakePublisher()
        settings = Settings(security=SecuritySettings(**kwargs))
        app: web.Application = create_app(settings, publisher)
        return await aiohttp_client(app), publisher

    return start
