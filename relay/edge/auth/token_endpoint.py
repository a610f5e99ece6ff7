"""The token URL Sinch is given for OAuth 2.0 callbacks (client-credentials grant).

Client credentials come as HTTP Basic (RFC 6749, 2.3.1) or as form fields
(`client_id`/`client_secret`, or `username`/`password`). Errors follow RFC 6749, 5.2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import orjson
from aiohttp import web
from prometheus_client import Counter

from relay.edge.auth.basic import CredentialSet
from relay.edge.auth.oauth import GRANTS, MAX_FORM, TokenIssuer, client_pair, known_client
from relay.edge.auth.throttle import TokenThrottle
from relay.edge.handlers import Handler
from relay.edge.keys import LOG_FIELDS

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """Who is asking (`source` of a request) and how many failures each may have."""

    source: Callable[[web.Request], str]
    throttle: TokenThrottle


def token_handler(
    clients: CredentialSet,
    issuer: TokenIssuer,
    admit: Callable[[web.Request], None],
    failures: Counter,
    limits: Limits,
) -> Handler:
    async def token(request: web.Request) -> web.Response:
        admit(request)
        form = b"" if (request.content_length or 0) > MAX_FORM else await request.read()
        pair, grant = client_pair(request.headers.get("Authorization"), form)
        if grant not in GRANTS:
            return _error(request, failures, 400, "unsupported_grant_type")
        source, client = limits.source(request), _client_id(pair)
        wait = limits.throttle.retry_after(source, client)
        if wait:  # past the failure limit: not even checked, so guessing stops paying
            return _throttled(request, failures, wait)
        if not known_client(clients, pair):
            limits.throttle.failed(source, client)
            return _error(request, failures, 401, "invalid_client")
        body = {"access_token": issuer.issue(), "token_type": "Bearer", "expires_in": issuer.ttl}
        return web.Response(
            body=orjson.dumps(body), headers=_NO_STORE, content_type="application/json"
        )

    return token


def _client_id(pair: bytes | None) -> str:
    return "" if pair is None else pair.partition(b":")[0][:128].decode("utf-8", "replace")


def _throttled(request: web.Request, failures: Counter, wait: int) -> web.Response:
    response = _error(request, failures, 429, "too_many_failures")
    response.headers["Retry-After"] = str(wait)
    return response


def _error(request: web.Request, failures: Counter, status: int, error: str) -> web.Response:
    request[LOG_FIELDS]["auth"] = error
    failures.labels(request.path, error, "").inc()  # one endpoint for the default paths
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="sinch-relay"'
    body = orjson.dumps({"error": error})
    return web.Response(status=status, body=body, headers=headers, content_type="application/json")
