"""The HTTP ceiling: a bare aiohttp server that reads the body and answers 200, no broker.

Same event loop (uvloop) and server settings as the relay, so the gap between this row
and the relay's is what the relay itself costs. `python -m bench.bare_http --port N`.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

ACCEPTED = b'{"status":"accepted"}'


async def accept(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=ACCEPTED, content_type="application/json")


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/{tail:.*}", accept)
    app.router.add_get("/readyz", accept)
    return app


async def serve(port: int) -> None:
    runner = web.AppRunner(create_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    try:
        import uvloop

        uvloop.run(serve(port))
    except ImportError:
        asyncio.run(serve(port))


if __name__ == "__main__":
    main()
