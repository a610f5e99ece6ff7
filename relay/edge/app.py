"""The app factory: routes, middlewares and the publisher's set-up/tear-down pair."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from relay.amqp.publisher import AmqpPublisher
from relay.amqp.quarantine import QuarantineSink
from relay.callback.ids import IdSource
from relay.config import Settings
from relay.edge import dispatch, health, middleware
from relay.edge.auth import Authenticator
from relay.edge.auth.replay import ReplayStore
from relay.edge.body import BodyBudget, ParseBudget
from relay.edge.handlers import callback_handler
from relay.edge.keys import (
    BODY_BUDGET,
    DEPENDENCIES,
    IDS,
    LIFECYCLE,
    METRICS,
    PARSE_BUDGET,
    PUBLISHER,
    SETTINGS,
    TRACER,
    Dependencies,
    Lifecycle,
    Publisher,
)
from relay.edge.quarantine import Quarantine, Sink
from relay.telemetry.metrics import Metrics, create_metrics
from relay.telemetry.tracing import create_tracer


def create_app(
    settings: Settings, publisher: Publisher | None = None, *, quarantine: Sink | None = None
) -> web.Application:
    """Build the relay. Without `publisher`, an `AmqpPublisher` is set up and torn down,
    and (quarantine.enabled) a quarantine sink; with one, only the `quarantine` given."""
    metrics = create_metrics()
    auth = Authenticator(
        settings.security,
        metrics.auth_failures,
        settings.http.max_body_bytes,
        accounts=settings.accounts,
        default_paths=settings.http.default_paths,
        store_errors=metrics.replay_store_errors,
    )
    metrics.route_accounts.update({r.path: r.account for r in auth.routes if r.account})
    held = _quarantine(settings, auth, metrics)
    app = web.Application(
        client_max_size=auth.client_max_size,
        middlewares=[middleware.canonical_log],
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[LIFECYCLE] = Lifecycle()
    app[IDS] = IdSource()
    app[BODY_BUDGET] = BodyBudget(settings.security.max_held_body_bytes, auth.client_max_size)
    app[PARSE_BUDGET] = ParseBudget(
        settings.security.large_body_bytes, settings.security.large_body_parse_share, time.monotonic
    )
    app[TRACER] = create_tracer()
    app[DEPENDENCIES] = Dependencies()
    app.cleanup_ctx.append(_replay_store(auth.replay_store))
    if publisher is None:
        app.cleanup_ctx.append(_amqp_publisher)
    else:
        app[PUBLISHER] = publisher
    if held is not None and (publisher is None or quarantine is not None):
        app.cleanup_ctx.append(_quarantine_sink(held, quarantine))
    _add_routes(app, auth)
    return app


def _add_routes(app: web.Application, auth: Authenticator) -> None:
    # Static routes, one per path of each account, answered without the router.
    callbacks = []
    for route in auth.routes:
        handler = auth.protect(route, callback_handler)
        callbacks.append((app.router.add_post(route.path, handler), handler))
    dispatch.serve_callbacks_directly(app, callbacks)
    auth.add_token_route(app.router)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    app.router.add_get("/asyncapi.json", health.asyncapi_document)


def _replay_store(store: ReplayStore) -> Callable[[web.Application], AsyncIterator[None]]:
    """Open the replay memory with the app (a shared one is a readiness check), close it after."""

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await store.open()
        if store.shared:
            app[DEPENDENCIES].checks["replay_store"] = store
        yield
        await store.close()

    return lifetime


def _quarantine(settings: Settings, auth: Authenticator, metrics: Metrics) -> Quarantine | None:
    if not settings.quarantine.enabled:
        return None
    held = Quarantine(
        settings, auth.client_max_size, metrics.quarantined, metrics.quarantine_dropped
    )
    auth.quarantine = held
    return held


def _quarantine_sink(
    held: Quarantine, given: Sink | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Attach `given`, or else a sink on its own broker connection."""

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        own = None
        if given is None:
            own = QuarantineSink(settings.amqp, settings.quarantine, settings.topology)
            await own.start()
        held.sink = given or own
        yield
        held.sink = None
        await held.close()
        if own is not None:
            await own.close()

    return lifetime


async def _amqp_publisher(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    publisher = AmqpPublisher(settings.amqp, settings.topology, settings.archive)
    await publisher.start()
    app[PUBLISHER] = publisher
    yield
    await publisher.close(settings.shutdown.timeout)
