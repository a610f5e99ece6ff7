"""The broker verbs every recovery command needs, and the three ways they fail.

A recovery command moves messages someone will act on, so "published" must mean
"queued": every publish is mandatory on a confirm channel (a return or a nack is an
error, never a silent drop), and nothing is taken from a queue before its copy is
confirmed elsewhere (`peek` gets without acking; the channel's close returns the rest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from pamqp.commands import Basic

from relay.config import AmqpSettings, Secret
from relay.contract.broker import broker

CONFIRM_TIMEOUT = 10.0  # seconds; an operator's command, not the hot path
GET_TIMEOUT = 5.0


class RecoveryError(RuntimeError):
    """A recovery command cannot go on; the message is one line fit for a person."""


class BrokerUnreachable(RecoveryError):
    """No configured broker address answered (the message never holds a password)."""


class Unroutable(RecoveryError):
    """The broker returned a mandatory publish: no queue is bound for its routing key."""


class PublishFailed(RecoveryError):
    """The broker nacked a publish, or did not confirm it in time."""


@asynccontextmanager
async def confirmed_channel(
    amqp: AmqpSettings, *, purpose: str = "recovery"
) -> AsyncIterator[AbstractChannel]:
    """A publisher-confirm channel on the first reachable configured broker."""
    connection = await connect(amqp, purpose)
    async with connection:
        yield await connection.channel(publisher_confirms=True, on_return_raises=True)


async def connect(amqp: AmqpSettings, purpose: str) -> AbstractConnection:
    """A connection to the first configured address that answers, named for `purpose`."""
    tried: list[str] = []
    for address in amqp.addresses():
        try:
            return await aio_pika.connect(
                address.reveal(),
                timeout=amqp.connect_timeout,
                client_properties={"connection_name": f"{amqp.connection_name}-{purpose}"},
            )
        except Exception as exc:  # never keep the exception text: it may hold the URL
            tried.append(f"{_where(address)} ({exc.__class__.__name__})")
    raise BrokerUnreachable("cannot reach the broker: " + (", ".join(tried) or "no address"))


async def publish_confirmed(
    channel: AbstractChannel,
    exchange: str,
    routing_key: str,
    message: aio_pika.Message,
    *,
    confirm_timeout: float = CONFIRM_TIMEOUT,
) -> None:
    """Publish mandatory and wait for the broker's ack; `exchange=""` is the default one."""
    target = channel.default_exchange
    if exchange:
        target = await channel.get_exchange(exchange, ensure=False)
    try:
        confirm = await target.publish(
            message, routing_key, mandatory=True, timeout=confirm_timeout
        )
    except aiormq.exceptions.PublishError as exc:
        raise Unroutable(f"no queue bound on {exchange!r} for {routing_key!r}") from exc
    except (aiormq.exceptions.DeliveryError, TimeoutError) as exc:
        raise PublishFailed(f"not confirmed by the broker ({exc.__class__.__name__})") from exc
    if not isinstance(confirm, Basic.Ack):
        raise PublishFailed(f"not confirmed by the broker ({type(confirm).__name__})")


async def peek(
    channel: AbstractChannel, queue: str, limit: int
) -> AsyncIterator[AbstractIncomingMessage]:
    """Up to `limit` messages from `queue` by basic.get, none acked here.

    The caller acks what it moved; whatever it does not ack goes back to the queue, in
    order, when the channel closes.
    """
    source = await channel.declare_queue(queue, passive=True)
    for _ in range(limit):
        message = await source.get(no_ack=False, fail=False, timeout=GET_TIMEOUT)
        if message is None:
            return
        yield message


def _where(address: Secret) -> str:
    found = broker(address)
    return f"{found.scheme}://{found.host}:{found.port}/{found.vhost.lstrip('/')}"
