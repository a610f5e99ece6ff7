"""The reference relay: what a careful engineer writes without this project.

aiohttp for HTTP, aiormq for AMQP: one connection, one confirm channel, each callback
one `basic_publish(mandatory=True)` awaited for its confirm, many in flight at once
(one per request). The body is forwarded as received; only its `type` is read, for the
routing key. Persistent messages with a message id; 200 only on Basic.Ack, 503 on
anything else. No logging, metrics, tracing, dedup key, auth, body guards or
reconnects: the row `python -m bench` and `bench.instructions --server reference` hold
the relay against.

`python -m bench.reference_relay --port N --url AMQP_URL --exchange X`
"""

from __future__ import annotations

import argparse
import asyncio
import uuid

import aiormq
import orjson
from aiohttp import web
from pamqp.commands import Basic

ACCEPTED = b'{"status":"accepted"}'
CHANNEL = web.AppKey("channel", aiormq.abc.AbstractChannel)
EXCHANGE = web.AppKey("exchange", str)


async def accept(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        type_ = orjson.loads(body)["type"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return web.Response(status=400, text="not a callback")
    properties = Basic.Properties(
        delivery_mode=2, content_type="application/json", message_id=uuid.uuid4().hex
    )
    try:
        confirm = await request.app[CHANNEL].basic_publish(
            body,
            exchange=request.app[EXCHANGE],
            routing_key=str(type_)[:255],
            properties=properties,
            mandatory=True,
            timeout=30,
        )
    except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, TimeoutError):
        return web.Response(status=503, text="not published")
    if not isinstance(confirm, Basic.Ack):
        return web.Response(status=503, text="not published")
    return web.Response(body=ACCEPTED, content_type="application/json")


async def ready(_: web.Request) -> web.Response:
    return web.Response(body=b'{"ready":true}', content_type="application/json")


def create_app(url: str, exchange: str) -> web.Application:
    app = web.Application()
    app[EXCHANGE] = exchange

    async def broker(app: web.Application) -> object:
        connection = await aiormq.connect(url)
        channel = await connection.channel(publisher_confirms=True)
        await channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        app[CHANNEL] = channel
        yield
        await connection.close()

    app.cleanup_ctx.append(broker)  # type: ignore[arg-type]
    app.router.add_post("/{tail:.*}", accept)
    app.router.add_get("/readyz", ready)
    return app


async def serve(port: int, url: str, exchange: str) -> None:
    runner = web.AppRunner(create_app(url, exchange), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--exchange", required=True)
    a = parser.parse_args()
    try:
        import uvloop

        uvloop.run(serve(a.port, a.url, a.exchange))
    except ImportError:
        asyncio.run(serve(a.port, a.url, a.exchange))


if __name__ == "__main__":
    main()
