"""The callback routes straight to their handlers; everything else through aiohttp's router.

A callback (a POST on one of the static callback paths) is what the relay serves
thousands of a second; health, metrics, AsyncAPI and the token endpoint a few. aiohttp's
router resolve, its match info and the middleware chain cost a callback about as much
as its log line (docs/performance.md), so the app's request handler is replaced by
`Dispatcher`: a POST on a callback path is answered by `middleware.logged` around the
route's handler, with the match info the router would have given it; any other
request (another method, path or an `Expect` header) goes to the app's own handler,
whose one middleware is the same `logged`. One answer, one log line, one error shape
either way. Both `web.AppRunner` (`relay serve`) and the test client's server call the
replaced handler, so tests see what production runs.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import NamedTuple

import structlog
from aiohttp import hdrs, web

from relay.edge import _aiohttp
from relay.edge.handlers import Handler
from relay.edge.middleware import logged

log = structlog.get_logger("relay.http")


class _Callback(NamedTuple):
    handler: Handler
    match: web.UrlMappingMatchInfo
    canonical: str


class Dispatcher:
    """The request handler `web.Server` calls: callbacks direct, the rest routed."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._routed = _aiohttp.routed(app)
        self._callbacks: dict[str, _Callback] = {}

    def add(self, route: web.AbstractRoute, handler: Handler) -> None:
        """Serve `route` (a static POST route of the app) directly with `handler`."""
        resource = route.resource
        assert resource is not None
        path = resource.canonical
        self._callbacks[path] = _Callback(handler, _aiohttp.match_for(self._app, route), path)

    def __call__(self, request: web.Request) -> Awaitable[web.StreamResponse]:
        """A plain function returning the answer's coroutine: one frame fewer per request.

        The path is the one the router matches on (`rel_url.path_safe`), so a path the
        router would not resolve to a callback route is never served here either.
        """
        if request.method == hdrs.METH_POST:
            callback = self._callbacks.get(request.rel_url.path_safe)
            if callback is not None and hdrs.EXPECT not in request.headers:
                _aiohttp.bind(request, callback.match)
                return logged(request, self._app, callback.handler, callback.canonical)
        return self._routed(request)


def serve_callbacks_directly(
    app: web.Application, routes: list[tuple[web.AbstractRoute, Handler]]
) -> None:
    """Answer `routes` without the router, where the installed aiohttp allows it."""
    dispatcher = Dispatcher(app)
    for route, handler in routes:
        dispatcher.add(route, handler)
    if not _aiohttp.install(app, dispatcher):
        log.warning(
            "http.router_fallback",
            aiohttp=_aiohttp.INSTALLED,
            verified=sorted(_aiohttp.VERIFIED),
        )
