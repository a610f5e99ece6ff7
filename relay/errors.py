"""Every failure the HTTP edge can answer with, each carrying its status code.

Sinch retries 5xx and 429 and drops any other 4xx for good, so only input that can
never become valid is answered 4xx; every transient condition is 503 or 429.
"""

from __future__ import annotations


class RelayError(Exception):
    """Base class: `status` is the HTTP answer, `code` a stable machine-readable name."""

    status: int = 500
    code: str = "internal_error"
    retry_after: bool = False

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code


class BadRequest(RelayError):
    """The body is not a JSON object with a string `type`: it can never be relayed.

    The detail is the answer's `reason`: invalid_json, not_an_object, missing_type or
    type_not_a_string.
    """

    status, code = 400, "bad_request"


class Unencodable(RelayError):
    """The relay built a message it cannot encode: its own bug, never a broker condition.

    500, so Sinch still retries, and the alert says "relay bug", not "broker down".
    """

    code = "message_unencodable"


class Unavailable(RelayError):
    """The broker cannot take the message now (down, closed channel, nack, no confirm)."""

    status, code, retry_after = 503, "broker_unavailable", True


class ConfirmTimeout(Unavailable):
    code = "confirm_timeout"


class Nacked(Unavailable):
    code = "publish_nacked"


class ShuttingDown(Unavailable):
    code = "shutting_down"


class Throttled(RelayError):
    """Back-pressure: Sinch retries 429 and lowers its rate."""

    status, code, retry_after = 429, "throttled", True


class BrokerBlocked(Throttled):
    code = "broker_blocked"


class Overloaded(Throttled):
    code = "too_many_in_flight"


class Unauthorized(RelayError):
    """Credentials or signature missing or wrong. The reason is logged, never answered."""

    status, code = 401, "unauthorized"

    def __init__(self, reason: str, challenge: str = "") -> None:
        super().__init__(reason)
        self.challenge = challenge


class Forbidden(RelayError):
    """The source address is not allowed. The reason is logged, never answered."""

    status, code = 403, "forbidden"


class ReplayInFlight(Throttled):
    """The same signed callback is being published right now: retry later, never lose it."""

    code = "duplicate_in_flight"


class ReplayMemoryFull(Throttled):
    """No room to remember a new signed callback: refusing it for now admits no replay and
    loses nothing (Sinch retries 429); the memory frees as windows end."""

    code = "replay_memory_full"


class ReplayStoreDown(RelayError):
    """The shared replay memory cannot be asked: whether this is a replay is unknown, so
    neither 2xx (it might be one) nor 4xx (it might be genuine): 503, Sinch retries."""

    status, code, retry_after = 503, "replay_store_unavailable", True


class SlowBody(RelayError):
    """The body did not arrive in time: 503, so a genuine sender retries it later."""

    status, code, retry_after = 503, "body_timeout", True


class BodiesOverBudget(RelayError):
    """Request bodies already hold `security.max_held_body_bytes`: retry shortly."""

    status, code, retry_after = 503, "too_many_bodies", True


class ClientGone(RelayError):
    """The client disconnected mid-body: nobody hears the answer, and it is no relay bug.

    499 (nginx's "client closed request") only in the log line and metrics.
    """

    status, code = 499, "client_disconnected"


class EncodedBody(RelayError):
    """A `Content-Encoding` other than identity: Sinch documents no compressed callbacks.

    Refused before a byte is read or decoded, so the published body is always the bytes
    on the wire that HMAC was checked over, and no decompression bomb is ever expanded.
    """

    status, code = 415, "content_encoding_not_accepted"


class ParseBudgetSpent(RelayError):
    """Large bodies used up their share of parsing time: retry shortly (Sinch does)."""

    status, code, retry_after = 503, "large_body_budget", True
