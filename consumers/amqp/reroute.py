"""Republishing a message to a retry queue or the dead-letter exchange, with confirms.

The copy keeps the body byte for byte and every property; headers gain the attempt
number, the original exchange and routing key and, for the DLQ, the reason.
"""

from __future__ import annotations

import time
from typing import Any

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from consumers.amqp.envelope import ATTEMPT_HEADER, REASON_HEADER, attempt_of
from consumers.policy import DeadLetter, RetryLater, dead_letter_names, retry_queue_name

PUBLISH_TIMEOUT = 10.0


def copy_of(message: AbstractIncomingMessage, headers: dict[str, Any]) -> Message:
    return Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=DeliveryMode.PERSISTENT,
        priority=message.priority,
        correlation_id=message.correlation_id,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
    )


def _headers(message: AbstractIncomingMessage) -> dict[str, Any]:
    headers = dict(message.headers or {})
    headers.setdefault("x-original-exchange", message.exchange or "")
    headers.setdefault("x-original-routing-key", message.routing_key or "")
    return headers


async def retry(
    channel: AbstractChannel, queue: str, message: AbstractIncomingMessage, decision: RetryLater
) -> None:
    headers = _headers(message) | {ATTEMPT_HEADER: decision.next_attempt}
    await channel.default_exchange.publish(
        copy_of(message, headers),
        routing_key=retry_queue_name(queue, decision.delay),
        mandatory=True,
        timeout=PUBLISH_TIMEOUT,
    )


async def dead_letter(
    channel: AbstractChannel, queue: str, message: AbstractIncomingMessage, decision: DeadLetter
) -> None:
    headers = _headers(message) | {
        REASON_HEADER: decision.reason[:500],
        "x-dead-letter-queue": queue,
        "x-dead-lettered-at": int(time.time()),
        ATTEMPT_HEADER: attempt_of(message.headers or {}),
    }
    exchange = await channel.get_exchange(dead_letter_names(queue)[0], ensure=False)
    await exchange.publish(
        copy_of(message, headers),
        routing_key=headers["x-original-routing-key"],
        timeout=PUBLISH_TIMEOUT,
    )
