"""The one place where failures become HTTP answers, and the one canonical log line."""

from __future__ import annotations

import asyncio
import re
import time

import orjson
import structlog
from aiohttp import web

from relay.contract.routing import ROUTES
from relay.edge.body import refuse_encoded
from relay.edge.handlers import Handler
from relay.edge.keys import (
    BODY_BUDGET,
    IDS,
    LOG_FIELDS,
    METRICS,
    REQUEST_ID,
    SETTINGS,
    LogFields,
)
from relay.errors import ClientGone, RelayError, Unauthorized
from relay.telemetry.logs import request_line

log = structlog.get_logger("relay.http")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Answers that say in `reason` what the client got wrong. Never 401/403 (the reason is
# for the log line only: it would guide a forger) nor 5xx (the relay's inside).
_REASONED = frozenset({400, 413, 415})
# aiohttp's own refusals (routing, body size): the same JSON shape as every other answer.
_HTTP_ERRORS: dict[int, tuple[str, str]] = {
    404: ("not_found", "unknown_path"),
    405: ("method_not_allowed", "allowed:{allow}"),
    413: ("body_too_large", "body_over_limit"),
}


@web.middleware
async def canonical_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`logged` for the routes the router resolves (relay/edge/dispatch.py: the others)."""
    return await logged(request, request.app, handler, _route_name(request))


async def logged(
    request: web.Request, app: web.Application, handler: Handler, route_name: str
) -> web.StreamResponse:
    """Bind a request id, answer the request, log exactly one line about it.

    One function for every route rather than two middlewares: each aiohttp middleware
    layer costs every request. The app, the request id and the log fields are read once
    and passed down: each `request.app` and `request[key]` is a property or method call.
    `route_name` is the route's canonical path (the log line's and the metrics' `path`).
    """
    started = time.perf_counter()
    request_id = _request_id(request, app)
    request[REQUEST_ID] = request_id
    fields: LogFields = {}
    request[LOG_FIELDS] = fields
    status = 500
    try:
        response = await _answer(request, app, handler, fields, request_id)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:  # with handler cancellation on, a client that left
        if _client_left(request):
            status = ClientGone.status
            fields["error"] = ClientGone.code
        raise
    finally:
        _log_line(request, app, route_name, status, started)


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


async def _answer(
    request: web.Request,
    app: web.Application,
    handler: Handler,
    fields: LogFields,
    request_id: str,
) -> web.StreamResponse:
    """Map `RelayError`s to their status; anything unexpected to 500 (Sinch retries it)."""
    budget = app[BODY_BUDGET]
    held = 0
    try:
        refuse_encoded(request)
        held = budget.reserve(budget.size_of(request))
        return await handler(request)
    except RelayError as exc:
        fields["error"] = exc.code
        reason = exc.detail if exc.status in _REASONED else None
        response = _error_response(request, exc.status, exc.code, exc.retry_after, reason)
        if isinstance(exc, Unauthorized) and exc.challenge:
            response.headers["WWW-Authenticate"] = exc.challenge
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _http_error(request, exc)
    except Exception:
        log.exception("http.unhandled_error", request_id=request_id)
        fields["error"] = "internal_error"
        return _error_response(request, 500, "internal_error", retry_after=True)
    finally:
        budget.release(held)


def _client_left(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    """An aiohttp refusal (unknown path, wrong method, body too large) as our JSON."""
    allow = exc.headers.get("Allow", "")
    default = (exc.reason.lower().replace(" ", "_"), None)
    code, reason = _HTTP_ERRORS.get(exc.status, default)
    request[LOG_FIELDS]["error"] = code
    response = _error_response(
        request, exc.status, code, False, reason and reason.format(allow=allow)
    )
    if allow:
        response.headers["Allow"] = allow
    return response


def _error_response(
    request: web.Request, status: int, code: str, retry_after: bool, reason: str | None = None
) -> web.Response:
    """`{"error": code, "reason": reason, "request_id": ...}`, `reason` only if given."""
    headers = {"X-Request-Id": request[REQUEST_ID]}
    if retry_after:
        headers["Retry-After"] = str(request.app[SETTINGS].http.retry_after_seconds)
    answer = {"error": code, "request_id": request[REQUEST_ID]}
    if reason is not None:
        answer["reason"] = reason
    body = orjson.dumps(answer)
    return web.Response(status=status, body=body, headers=headers, content_type="application/json")


def _request_id(request: web.Request, app: web.Application) -> str:
    given = request.headers.get("X-Request-Id")
    return given if given and _REQUEST_ID.fullmatch(given) else app[IDS].next()


def _log_line(
    request: web.Request, app: web.Application, route_name: str, status: int, started: float
) -> None:
    fields = request[LOG_FIELDS]
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    type_ = fields.get("type", "")
    metrics = app[METRICS]
    metrics.count_request(route_name, type_ if type_ in ROUTES else "other", status)
    line = {
        "event": "http.request",
        "request_id": request[REQUEST_ID],
        "method": request.method,
        "path": route_name,
        "status": status,
        "latency_ms": latency_ms,
        **fields,
    }
    account = metrics.route_accounts.get(route_name)  # on every answer, 401s included
    if account is not None:
        line["account"] = account
    if route_name in _QUIET_PATHS and status < 500:
        log.debug(**line)
    else:
        request_line(line)
