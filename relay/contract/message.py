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
