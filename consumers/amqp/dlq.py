"""Reading a worker's dead-letter queue, and moving messages back for another try."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson
from aio_pika.abc import AbstractIncomingMessage

from consumers.amqp import failover
from consumers.amqp.envelope import ATTEMPT_HEADER, REASON_HEADER
from consumers.amqp.reroute import PUBLISH_TIMEOUT, copy_of
from consumers.config import WorkerSettings
from consumers.policy import dead_letter_names
from consumers.processor import Delivery
from relay.contract.message import DEDUP_KEY


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetterInfo:
    message_id: str  # the relay's AMQP message id
    type: str
    reason: str
    attempts: int
    dedup_key: str
    sinch_id: str = ""  # the callback's `id` (inbound messages), what an operator searches for
    batch_id: str = ""  # the callback's `batch_id` (delivery reports)


def describe(message: Delivery) -> DeadLetterInfo:
    headers = message.headers or {}
    attempts = headers.get(ATTEMPT_HEADER, 1)
    payload = _payload(message.body)
    return DeadLetterInfo(
        message_id=message.message_id or "",
        type=message.type or _text(payload, "type"),
        reason=str(headers.get(REASON_HEADER, _native_reason(headers))),
        attempts=attempts if isinstance(attempts, int) else 1,
        dedup_key=str(headers.get(DEDUP_KEY, "")),
        sinch_id=_text(payload, "id"),
        batch_id=_text(payload, "batch_id"),
    )


def _payload(body: bytes) -> Mapping[str, Any]:
    """The callback's JSON object; nothing for a body that is not one (it may be poison)."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    return value[:100] if isinstance(value, str) else ""


def _native_reason(headers: Mapping[str, Any]) -> str:
    """Messages the broker dead-lettered itself (e.g. delivery limit) carry x-death only."""
    reason = headers.get("x-first-death-reason", "unknown")
    return f"broker: {reason.decode() if isinstance(reason, bytes) else reason}"


async def inspect(settings: WorkerSettings, limit: int, replay: bool) -> list[DeadLetterInfo]:
    """Up to `limit` dead letters; with `replay`, each goes back to the worker queue."""
    _, dlq_name = dead_letter_names(settings.queue)
    connection = await failover.connect(settings.addresses())
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(dlq_name, passive=True)
        found: list[DeadLetterInfo] = []
        while len(found) < limit and (message := await queue.get(fail=False)) is not None:
            found.append(describe(message))
            if replay:
                await _replay(channel, settings.queue, message)
        return found  # unacked (peeked) messages return to the DLQ when the channel closes


async def _replay(channel: Any, queue: str, message: AbstractIncomingMessage) -> None:
    headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-dead")}
    headers[ATTEMPT_HEADER] = 1
    await channel.default_exchange.publish(
        copy_of(message, headers), routing_key=queue, mandatory=True, timeout=PUBLISH_TIMEOUT
    )
    await message.ack()
