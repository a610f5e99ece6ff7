"""The ack policy without a broker: outcomes -> decisions, and the multiple-ack rule."""

from __future__ import annotations

from typing import Any

from consumers.amqp.transport import AmqpTransport
from consumers.errors import Reject, Retry
from consumers.policy import DeadLetter, RetryLater, RetryPolicy
from consumers.settle import (
    Ack,
    Applied,
    Failed,
    Outstanding,
    Rejected,
    Requeue,
    ack_plan,
    after_reroute,
    decide,
    outcome_of,
)
from tests.consumers.fakes import FakeChannel, messages, tag

POLICY = RetryPolicy(delays=(1.0, 5.0), max_attempts=3)


def amqp_transport() -> Any:
    """The production transport, typed loosely so it accepts fake messages (no publisher)."""
    return AmqpTransport("q", publisher=None)  # type: ignore[arg-type]


def test_applied_and_duplicate_are_acked() -> None:
    """A stored effect, new or already seen, is acked."""
    assert decide(Applied(new=True), 1, POLICY) == Ack()
    assert decide(Applied(new=False), 1, POLICY) == Ack()


def test_reject_and_undecodable_go_to_the_dead_letter_queue_with_reason() -> None:
    """Reject (and the decoder's Reject for a bad body) dead-letters at once, on attempt 1."""
    assert decide(outcome_of(Reject("bad")), 1, POLICY) == DeadLetter("bad")
    assert decide(Rejected("undecodable body: not JSON"), 1, POLICY) == DeadLetter(
        "undecodable body: not JSON"
    )


def test_retry_waits_in_the_tier_at_or_above_the_requested_delay() -> None:
    """Retry(delay=2) on attempt 1 goes to the 5 s retry queue as attempt 2."""
    assert decide(outcome_of(Retry("busy", delay=2.0)), 1, POLICY) == RetryLater(5.0, 2)


def test_crash_and_store_failure_are_retried_with_the_backoff() -> None:
    """An unexpected exception is retried under its type name, with the configured backoff."""
    assert outcome_of(KeyError("x")) == Failed("KeyError")
    assert decide(Failed("KeyError"), 2, POLICY) == RetryLater(5.0, 3)


def test_retries_exhausted_dead_letter_with_the_last_reason() -> None:
    """At max_attempts the next failure dead-letters, saying how many attempts and why."""
    assert decide(Failed("downstream busy"), 3, POLICY) == DeadLetter(
        "retries exhausted after 3 attempts: downstream busy"
    )


def test_reroute_acks_only_after_the_confirm_else_requeues() -> None:
    """A retry or dead letter is acked once its copy is confirmed; otherwise requeued."""
    assert after_reroute(RetryLater(1.0, 2), confirmed=True) == Ack()
    assert after_reroute(DeadLetter("bad"), confirmed=False) == Requeue()
    assert after_reroute(Ack(), confirmed=False) == Ack()


def test_contiguous_acks_take_one_multiple_ack() -> None:
    """Every outstanding tag acked: one multiple ack to the highest, nothing one by one."""
    batch = messages(*range(1, 51))
    plan = ack_plan(batch, {m.delivery_tag for m in batch}, tag)
    assert plan.through is batch[-1]
    assert plan.each == ()


def test_a_later_outstanding_tag_does_not_block_the_multiple_ack() -> None:
    """Deliveries above the batch (still buffered) are untouched by a multiple ack below them."""
    plan = ack_plan(messages(1, 2, 3), {1, 2, 3, 4, 5}, tag)
    assert plan.through is not None
    assert plan.through.delivery_tag == 3
    assert plan.each == ()


def test_an_outstanding_gap_forbids_a_multiple_ack_across_it() -> None:
    """Tag 3 must not be acked: 1-2 go in one multiple ack, 4-5 one by one."""
    plan = ack_plan(messages(1, 2, 4, 5), {1, 2, 3, 4, 5}, tag)
    assert plan.through is not None
    assert plan.through.delivery_tag == 2
    assert [m.delivery_tag for m in plan.each] == [4, 5]


def test_a_gap_below_the_batch_forbids_any_multiple_ack() -> None:
    """An unsettled delivery below every acked tag: all acks go one by one."""
    plan = ack_plan(messages(2, 3), {1, 2, 3}, tag)
    assert plan.through is None
    assert [m.delivery_tag for m in plan.each] == [2, 3]


def test_an_ack_unknown_to_the_tracker_is_still_acked() -> None:
    """A tag the tracker missed is treated as outstanding, never skipped."""
    plan = ack_plan(messages(1, 2), set(), tag)
    assert plan.through is not None
    assert plan.through.delivery_tag == 2


def test_outstanding_tracks_tags_per_channel_and_forgets_closed_ones() -> None:
    """Tags are per channel; settling removes them; a closed channel is forgotten."""
    outstanding: Outstanding[str] = Outstanding()
    for channel, t in [("a", 1), ("a", 2), ("b", 1)]:
        outstanding.received(channel, t)
    outstanding.settled("a", [1])
    assert outstanding.of("a") == {2}
    assert outstanding.of("b") == {1}
    outstanding.forget(lambda channel: channel == "b")
    assert outstanding.of("b") == frozenset()


async def test_amqp_transport_acks_a_batch_of_50_with_one_frame() -> None:
    """50 contiguous deliveries settle with one basic.ack multiple=True (was 50 frames)."""
    wire = FakeChannel()
    transport = amqp_transport()
    batch = messages(*range(1, 51), wire=wire)
    for message in batch:
        transport.received(message)
    await transport.ack(batch)
    assert wire.frames == [("ack", 50, True)]


async def test_amqp_transport_requeue_first_then_one_multiple_ack() -> None:
    """A requeued tag is nacked before the acks, so the multiple ack may cover the rest."""
    wire = FakeChannel()
    transport = amqp_transport()
    batch = messages(1, 2, 3, 4, wire=wire)
    for message in batch:
        transport.received(message)
    assert await transport.requeue(batch[1])
    await transport.ack([batch[0], *batch[2:]])
    assert wire.frames == [("nack", 2, True), ("ack", 4, True)]


async def test_amqp_transport_never_acks_across_a_buffered_lower_delivery() -> None:
    """A delivery still outstanding below the batch keeps its tag out of any multiple ack."""
    wire = FakeChannel()
    transport = amqp_transport()
    batch = messages(1, 2, 3, wire=wire)
    for message in batch:
        transport.received(message)
    await transport.ack(batch[1:])
    assert wire.frames == [("ack", 2, False), ("ack", 3, False)]
