"""Every touch of aiohttp's private internals, behind a few small verbs.

The callback routes skip aiohttp's router and middleware chain (relay/edge/dispatch.py):
the app's request handler, the one `Application._make_handler` gives `web.Server` (so
both `web.AppRunner` and the test client's server), is replaced by a dispatcher that
calls a callback route's handler directly and hands every other request to the
original. The request then needs the match info the router would have set (for
`request.app` and the response's prepare signal): one, built once per route. None of
that is public API, so it lives here alone: no other module names `_handle` or
`_match_info`.

`SUPPORTED` says whether the installed aiohttp is a minor version these verbs were
verified against (tests/unit/test_aiohttp_adapter.py drives a real app through them).
Outside that set `install` leaves the app alone: every request takes the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.metadata import version

from aiohttp import web

# aiohttp minor versions whose internals the adapter test was run against.
VERIFIED = frozenset({"3.14"})

RequestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def minor(release: str) -> str:
    """'3.14.5' -> '3.14': the part of a version the guard compares."""
    return ".".join(release.split(".")[:2])


INSTALLED = version("aiohttp")
SUPPORTED = minor(INSTALLED) in VERIFIED


def routed(app: web.Application) -> RequestHandler:
    """The app's own request handler: router, match info, middlewares."""
    handle: RequestHandler = app._handle
    return handle


def install(app: web.Application, handler: RequestHandler) -> bool:
    """Make `handler` what the app's servers call for each request (False: unsupported).

    `Application._make_handler` passes `self._handle` to `web.Server` when a runner or
    the test server sets up, so an instance attribute set before then takes its place.
    `object.__setattr__`: in debug mode aiohttp warns on unknown attributes.
    """
    if not SUPPORTED:
        return False
    object.__setattr__(app, "_handle", handler)
    return True


def match_for(app: web.Application, route: web.AbstractRoute) -> web.UrlMappingMatchInfo:
    """What the router resolves a static route to, frozen: shared by its requests.

    A static route matches nothing (an empty dict) and its app stack is the one app, so
    one instance serves every request, as `Application._handle` would leave it.
    """
    match = web.UrlMappingMatchInfo({}, route)
    match.add_app(app)
    match.freeze()
    return match


def bind(request: web.Request, match: web.UrlMappingMatchInfo) -> None:
    """Give `request` its route, as the router would: `request.app`, `match_info`."""
    request._match_info = match
