"""Every touch of aiohttp's private internals, behind a few small verbs.

The callback routes skip aiohttp's router and middleware chain (relay/edge/dispatch.py):
the app's request handler, the one `Application._make_handler` gives `web.Server` (so
both `web.AppRunner` and the test client's server), is replaced by a dispatcher that
calls a callback route's handler directly and hands every other request to the
original. The request then needs the match info the router would have set (for
`request.app` and the response's prepare signal): one, built once per route. None of
that is public API, so it lives here alone: no other module names `_handle` or
`_match_info`. `JsonOk` writes a 200's head from bytes built once (the response's
writer buffers it as `_serialize_headers` would have).

`SUPPORTED` says whether the installed aiohttp is a minor version these verbs were
verified against (tests/unit/test_aiohttp_adapter.py drives a real app through them).
Outside that set `install` leaves the app alone: every request takes the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.metadata import version

from aiohttp import hdrs, web
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from aiohttp.http_writer import StreamWriter

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


# The head of a 200 JSON answer as it reaches `_write_headers`: Content-Type from the
# constructor, X-Request-Id from the middleware, Content-Length, Date and Server from
# aiohttp's `_start`/`_prepare_headers` (no Connection header: HTTP/1.1, kept alive).
_OK_KEYS = (hdrs.CONTENT_TYPE, "X-Request-Id", hdrs.CONTENT_LENGTH, hdrs.DATE, hdrs.SERVER)
_OK_TYPE = "application/json"
_OK_START = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: "
_OK_END = f"\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode()


class JsonOk(web.Response):
    """A `web.Response` (built as one: `body=..., content_type="application/json"`) whose
    head is written from prebuilt bytes when it is a 200 with exactly the expected headers.

    aiohttp's `_serialize_headers` checks each header character by character for CR/LF;
    here only the request id and the date vary (the id is validated when it is bound,
    the date is aiohttp's own), and they are checked as whole strings. Any other shape
    (HTTP/1.0, Connection: close, a header added, a writer callback) takes aiohttp's path,
    so the bytes on the wire are the same either way (tests/unit/test_aiohttp_adapter.py).
    """

    async def _write_headers(self) -> None:
        head = self._prebuilt()
        writer = self._payload_writer
        usable = isinstance(writer, StreamWriter) and writer._on_headers_sent is None
        if head is None or not usable:
            await super()._write_headers()
            return
        assert isinstance(writer, StreamWriter)
        writer._headers_written = False  # what StreamWriter.write_headers leaves
        writer._headers_buf = head

    def _prebuilt(self) -> bytes | None:
        request, headers = self._req, self._headers
        if not SUPPORTED or request is None or request.version != HttpVersion11:
            return None
        if self.status != 200 or tuple(headers.keys()) != _OK_KEYS:
            return None
        kind, request_id, length, date, server = headers.values()
        if kind != _OK_TYPE or server != SERVER_SOFTWARE or not length.isdigit():
            return None
        if "\r" in request_id or "\n" in request_id or "\r" in date or "\n" in date:
            return None
        variable = f"{request_id}\r\nContent-Length: {length}\r\nDate: {date}"
        return _OK_START + variable.encode() + _OK_END
