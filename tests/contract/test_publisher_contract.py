"""The `Publisher` contract: the fake the unit tests use behaves as the real one does.

Every test runs over the fake and over the real `AmqpPublisher` against a broker
(tests/contract/conftest.py), so a fake that drifts from the real publisher fails here
rather than letting unit tests pass against behaviour production never has.
"""

from __future__ import annotations

import asyncio

import pytest

from relay.errors import BrokerBlocked, Overloaded, ShuttingDown, Unavailable
from tests.contract.subjects import _BROKER_ANSWERS, MAX_IN_FLIGHT, Subject, message, until
from tests.names import unique_topology
from tests.support.fakes import BROKER_FAILURES, FakePublisher

READINESS_KEYS = {"connected", "channel_open", "not_blocked", "accepting"}


async def test_before_start_it_is_not_connected_but_accepting(subject: Subject) -> None:
    """Unstarted: the four readiness keys, not connected, no channel, nothing in flight."""
    assert subject.publisher.readiness() == {
        "connected": False,
        "channel_open": False,
        "not_blocked": True,
        "accepting": True,
    }
    assert subject.publisher.in_flight == 0


async def test_before_start_a_publish_is_unavailable(subject: Subject) -> None:
    """Publishing before the broker answered raises Unavailable (503: Sinch retries)."""
    with pytest.raises(Unavailable):
        await subject.publisher.publish(message(subject.names))


async def test_connected_it_reports_every_check_true(subject: Subject) -> None:
    """Once connected every readiness check holds."""
    await subject.connected()
    assert subject.publisher.readiness() == dict.fromkeys(READINESS_KEYS, True)


async def test_publish_returns_once_the_broker_holds_the_message(subject: Subject) -> None:
    """A publish that returned is delivered, and leaves nothing in flight."""
    await subject.connected()
    sent = message(subject.names)
    await subject.publisher.publish(sent)
    assert subject.publisher.in_flight == 0
    assert await subject.delivered() == [sent.body]


async def test_after_close_it_refuses_with_shutting_down(subject: Subject) -> None:
    """Closed: not accepting, not connected, and a publish raises ShuttingDown."""
    await subject.connected()
    await subject.publisher.close(0.5)
    checks = subject.publisher.readiness()
    assert set(checks) == READINESS_KEYS
    assert (checks["accepting"], checks["connected"]) == (False, False)
    with pytest.raises(ShuttingDown):
        await subject.publisher.publish(message(subject.names))


async def test_a_lost_connection_is_unavailable(subject: Subject) -> None:
    """With the broker gone, readiness says not connected and a publish is Unavailable."""
    await subject.connected()
    await subject.lose_connection()
    assert subject.publisher.readiness()["connected"] is False
    with pytest.raises(Unavailable):
        await subject.publisher.publish(message(subject.names))


async def test_past_max_in_flight_a_publish_is_overloaded(subject: Subject) -> None:
    """With max_in_flight publishes awaiting confirms, the next raises Overloaded (429)."""
    await subject.connected()
    subject.stall()
    pending = [
        asyncio.create_task(subject.publisher.publish(message(subject.names)))
        for _ in range(MAX_IN_FLIGHT)
    ]
    await until(lambda: subject.publisher.in_flight == MAX_IN_FLIGHT)
    with pytest.raises(Overloaded):
        await subject.publisher.publish(message(subject.names))
    subject.restore()
    await asyncio.gather(*pending)
    assert subject.publisher.in_flight == 0


@pytest.mark.parametrize("failure", sorted(BROKER_FAILURES))
async def test_each_broker_answer_raises_what_the_fake_injects(
    subject: Subject, failure: str
) -> None:
    """A nack, a confirm that never comes, a returned message: the fake's exception type."""
    await subject.connected()
    await subject.answer_with(failure)
    with pytest.raises(Unavailable) as raised:
        await subject.publisher.publish(message(subject.names))
    assert type(raised.value) is type(BROKER_FAILURES[failure])
    assert subject.publisher.in_flight == 0


def test_the_real_broker_can_be_made_to_give_every_injectable_answer() -> None:
    """Every failure the fake can inject has a real broker counterpart in this suite."""
    assert set(_BROKER_ANSWERS) == set(BROKER_FAILURES)


async def test_the_fake_blocked_by_an_alarm_is_broker_blocked() -> None:
    """A resource alarm (not provoked on the shared broker): not_blocked False, a 429."""
    publisher = FakePublisher(blocked=True)
    assert publisher.readiness()["not_blocked"] is False
    with pytest.raises(BrokerBlocked):
        await publisher.publish(message(unique_topology()))
