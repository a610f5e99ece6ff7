"""An optional small HTTP server per worker: `/healthz` (200 or 503) and `/metrics`."""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from consumers.config import setting_error
from consumers.metrics import Metrics


def create_app(healthy: Callable[[], bool], metrics: Metrics) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        ok = healthy()
        return web.json_response({"ok": ok}, status=200 if ok else 503)

    async def render(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", render)
    return app


@asynccontextmanager
async def serving(app: web.Application, host: str, port: int) -> AsyncIterator[None]:
    """Serve `app` while the block runs; port 0 means no server at all."""
    if port == 0:
        yield
        return
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await _listen(runner, host, port)
        yield
    finally:
        await runner.cleanup()


async def _listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Bind, or a `ConfigError` naming the setting to change (port busy, host not here)."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        field = "http_port" if exc.errno == errno.EADDRINUSE else "http_host"
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise setting_error(field, f"cannot listen on {host}:{port}: {reason}") from None
