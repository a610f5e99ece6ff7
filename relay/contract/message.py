"""The AMQP message downstream receives: its constant properties and header names.

Stated once here; the relay's envelope, its framing, the AsyncAPI document and the
consumers all read them from this module.
"""

from __future__ import annotations

from typing import Final

PERSISTENT: Final = 2
CONTENT_TYPE: Final = "application/json"
APP_ID: Final = "sinch-relay"

# Headers the relay sets on every message it publishes.
DEDUP_KEY: Final = "x-dedup-key"
REQUEST_ID: Final = "x-request-id"
RELAY_PATH: Final = "x-relay-path"
TRACEPARENT: Final = "traceparent"
TRACESTATE: Final = "tracestate"
# The Sinch account (service plan) whose path the callback arrived on, `/sms/<account>/...`;
# absent on the single-account paths (docs/operations.md, "Several Sinch accounts").
SINCH_ACCOUNT: Final = "x-sinch-account"
# Only on some messages.
MISROUTED: Final = "x-misrouted"
UNROUTED_REASON: Final = "x-unrouted-reason"
SINCH_TYPE: Final = "x-sinch-type"
# A genuine signature outside its window, published because a shared replay memory says
# it never was before (docs/security.md, "Replay memory across replicas").
SIGNATURE_STALE: Final = "x-signature-stale"
# Republished from the archive by `relay replay` (docs/recovery.md).
REPLAYED: Final = "x-replayed"
# Where a republished message came from (`unrouted`, `quarantine`, `replay`, `backfill`):
# absent on what the edge published as it arrived (docs/recovery.md).
RELAY_SOURCE: Final = "x-relay-source"
# An allowlisted request header travels as "http-<lower-case name>".
FORWARDED_PREFIX: Final = "http-"

# Sinch's signature headers (docs/sinch.md, section 3). The edge checks them; with
# `http.forward_signature` they travel under these same names, so Sinch's SDK validator
# accepts the consumed message as it would the request.
SIGNATURE: Final = "x-sinch-webhook-signature"
NONCE: Final = "x-sinch-webhook-signature-nonce"
TIMESTAMP: Final = "x-sinch-webhook-signature-timestamp"
ALGORITHM: Final = "x-sinch-webhook-signature-algorithm"
SIGNATURE_HEADERS: Final = (SIGNATURE, NONCE, TIMESTAMP, ALGORITHM)

# A callback edge security refused, held in the quarantine queue (docs/security.md,
# "Quarantine"): the raw body, and in these headers what a later re-check needs. Also
# REQUEST_ID and RELAY_PATH (the route it arrived on); the AMQP timestamp is its arrival.
QUARANTINE_REASON: Final = "x-quarantine-reason"
QUARANTINE_PEER: Final = "x-quarantine-peer"  # the TCP peer address
QUARANTINE_HEADERS: Final = "x-quarantine-headers"  # a table of the kept request headers
# A table {scheme, user?, payload?, salt, digest}: never the password or token itself.
QUARANTINE_CREDENTIAL: Final = "x-quarantine-credential"
