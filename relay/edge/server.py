"""Serve the app until SIGTERM/SIGINT, then drain in order.

On a signal: readiness turns false and new callbacks get 503 at once; after the
configured grace the listener closes; requests in flight (and so their publishes) get
their confirms; only then does the AMQP connection close. Nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import signal
import socket

import structlog
from aiohttp import web

from relay.config import Settings
from relay.edge import auth, client_errors
from relay.edge.app import create_app
from relay.edge.keys import LIFECYCLE
from relay.edge.memory import returned_to_the_system

log = structlog.get_logger("relay.server")

_GEN0_THRESHOLD = 10_000


class CannotListen(Exception):
    """The listener cannot open: the message says why, in one line."""


class PortBusy(CannotListen):
    """The listen address is taken (by another relay, or anything else)."""


_BIND_ERRORS = {
    errno.EADDRNOTAVAIL: "is not an address of this host",
    errno.EACCES: "needs privileges (ports below 1024: run as root or use a higher port)",
}


async def serve(settings: Settings, host: str, port: int, share_port: bool = False) -> None:
    """Run one relay process until it is told to stop.

    `share_port` (SO_REUSEPORT) only for `--workers N` children, whose supervisor owns every
    process on the port: otherwise a stray second relay (a debug instance without auth, an
    old unit) would start silently and the kernel would hand it part of the traffic.
    """
    app = create_app(settings)
    runner = web.AppRunner(
        app,
        access_log=None,
        shutdown_timeout=settings.shutdown.timeout,
        handle_signals=False,
        **auth.handler_args(settings.security),
    )
    client_errors.install()
    stop = _stop_event()  # before listening: a signal must never find us unprepared
    await runner.setup()
    tls = auth.server_context(settings.security)
    site = web.TCPSite(runner, host, port, reuse_port=share_port, ssl_context=tls)
    await _listen(site, runner, f"{host}:{port}")
    _settle_heap()
    log.info("relay.started", host=host, port=port, tls=tls is not None)
    async with returned_to_the_system():
        await stop.wait()
    app[LIFECYCLE].draining = True
    log.info("relay.draining", grace_seconds=settings.shutdown.grace)
    await asyncio.sleep(settings.shutdown.grace)
    await runner.cleanup()
    log.info("relay.stopped")


async def _listen(site: web.TCPSite, runner: web.AppRunner, where: str) -> None:
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise PortBusy(f"{where} is already in use (another relay?)") from None
        if isinstance(exc, socket.gaierror):
            raise CannotListen(f"{where}: unknown host ({exc.strerror})") from None
        if exc.errno in _BIND_ERRORS:
            raise CannotListen(f"{where} {_BIND_ERRORS[exc.errno]}") from None
        raise


def _settle_heap() -> None:
    """Keep the cyclic garbage collector off the request path's back.

    Start-up leaves many long-lived objects (aiohttp, aio-pika, prometheus, config);
    the collector kept re-scanning them, and at the default gen-0 threshold of 700
    allocations it ran every few requests: a real share of the relay's CPU and most of
    its p99 (GC pauses; figures in docs/performance.md). Frozen start-up objects are
    never scanned again; a 10,000-allocation threshold still collects request garbage
    cycles, just in larger, rarer batches (RSS stays flat).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GEN0_THRESHOLD, *gc.get_threshold()[1:])


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
