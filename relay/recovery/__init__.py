"""What an operator runs in an incident: the shared core of the recovery commands.

console.py draws progress and the one summary line; broker.py connects, publishes with
confirms and peeks at a queue without taking from it. The commands themselves (unrouted,
quarantine, replay, backfill) live in relay/cli and build on these few verbs.
"""
