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
from relay.edge.keys import BODY_BUDGET, IDS, LOG_FIELDS, METRICS, REQUEST_ID, SETTINGS
from relay.errors import ClientGone, RelayError, Unauthorized
from relay.telemetry.logs import request_line

log = structlog.get_logger("relay.http")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@web.middleware
async def canonical_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id, answer the request, log exactly one line about it.

    One middleware rather than two: each aiohttp middleware layer costs every request.
    """
    started = time.perf_counter()
    request[REQUEST_ID] = _request_id(request)
    request[LOG_FIELDS] = {}
    status = 500
    try:
        response = await _answer(request, handler)
        status = response.status
        response.headers["X-Request-Id"] = request[REQUEST_ID]
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:  # with handler cancellation on, a client that left
        if _client_left(request):
            status = ClientGone.status
            request[LOG_FIELDS]["error"] = ClientGone.code
        raise
    finally:
        _log_line(request, status, started)


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map `RelayError`s to their status; anything unexpected to 500 (Sinch retries it)."""
    budget = request.app[BODY_BUDGET]
    held = 0
    try:
        refuse_encoded(request)
        held = budget.reserve(budget.size_of(request))
        return await handler(request)
    except RelayError as exc:
        request[LOG_FIELDS]["error"] = exc.code
        response = _error_response(request, exc.status, exc.code, exc.retry_after)
        if isinstance(exc, Unauthorized) and exc.challenge:
            response.headers["WWW-Authenticate"] = exc.challenge
        return response
    except web.HTTPException:
        raise
    except Exception:
        log.exception("http.unhandled_error", request_id=request[REQUEST_ID])
        request[LOG_FIELDS]["error"] = "internal_error"
        return _error_response(request, 500, "internal_error", retry_after=True)
    finally:
        budget.release(held)


def _client_left(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _error_response(
    request: web.Request, status: int, code: str, retry_after: bool
) -> web.Response:
    headers = {"X-Request-Id": request[REQUEST_ID]}
    if retry_after:
        headers["Retry-After"] = str(request.app[SETTINGS].http.retry_after_seconds)
    body = orjson.dumps({"error": code, "request_id": request[REQUEST_ID]})
    return web.Response(status=status, body=body, headers=headers, content_type="application/json")


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-Id")
    return given if given and _REQUEST_ID.fullmatch(given) else request.app[IDS].next()


def _log_line(request: web.Request, status: int, started: float) -> None:
    fields = request[LOG_FIELDS]
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    route = request.match_info.route.resource
    route_name = route.canonical if route is not None else "unmatched"
    type_ = fields.get("type", "")
    metrics = request.app[METRICS]
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
