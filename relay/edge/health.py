"""Endpoints for orchestrators and tooling: liveness, readiness, metrics, AsyncAPI."""

from __future__ import annotations

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from relay.contract import asyncapi
from relay.edge.keys import DEPENDENCIES, LIFECYCLE, METRICS, PUBLISHER, SETTINGS


async def healthz(_: web.Request) -> web.Response:
    """The process is up and its event loop answers."""
    return web.Response(body=b'{"status":"ok"}', content_type="application/json")


async def readyz(request: web.Request) -> web.Response:
    """Ready: broker connected, confirm channel open, not blocked, not draining, and every
    other dependency (the shared replay store, if configured) answering."""
    checks = request.app[PUBLISHER].readiness()
    checks["accepting"] = checks["accepting"] and not request.app[LIFECYCLE].draining
    for name, dependency in request.app[DEPENDENCIES].checks.items():
        checks[name] = await dependency.ready()
    ready = all(checks.values())
    request.app[METRICS].broker_up.set(1 if ready else 0)
    body = orjson.dumps({"ready": ready, "checks": checks})
    return web.Response(body=body, status=200 if ready else 503, content_type="application/json")


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition of this process's registry."""
    m = request.app[METRICS]
    m.in_flight.set(request.app[PUBLISHER].in_flight)
    m.broker_up.set(1 if all(request.app[PUBLISHER].readiness().values()) else 0)
    return web.Response(
        body=generate_latest(m.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def asyncapi_document(request: web.Request) -> web.Response:
    """`GET /asyncapi.json`: the AMQP side as this relay is configured."""
    body = asyncapi.render(request.app[SETTINGS])
    return web.Response(body=body, content_type="application/json")
