"""The app factory: routes, middlewares and the publisher's set-up/tear-down pair."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from relay import health, middleware
from relay.config import Settings
from relay.handlers import callback_handler
from relay.keys import LIFECYCLE, METRICS, PUBLISHER, SETTINGS, Lifecycle
from relay.metrics import create_metrics
from relay.publisher import AmqpPublisher, Publisher
from relay.routing import CHANNEL_PATHS

PublisherFactory = Callable[[Settings], Publisher]


def create_app(settings: Settings, publisher: Publisher | None = None) -> web.Application:
    """Build the relay. Without `publisher`, an `AmqpPublisher` is set up and torn down."""
    app = web.Application(
        client_max_size=settings.http.max_body_bytes,
        middlewares=[middleware.canonical_log, middleware.errors],
    )
    app[SETTINGS] = settings
    app[METRICS] = create_metrics()
    app[LIFECYCLE] = Lifecycle()
    if publisher is None:
        app.cleanup_ctx.append(_amqp_publisher)
    else:
        app[PUBLISHER] = publisher
    _add_routes(app)
    return app


def _add_routes(app: web.Application) -> None:
    app.router.add_post("/sms", callback_handler(None))
    for channel, path in CHANNEL_PATHS.items():
        app.router.add_post(path, callback_handler(channel))
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)


async def _amqp_publisher(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    publisher = AmqpPublisher(settings.amqp, settings.topology)
    await publisher.start()
    app[PUBLISHER] = publisher
    yield
    await publisher.close(settings.shutdown.timeout)
