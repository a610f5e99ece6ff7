"""A TCP proxy in the test process, between the relay and a broker, that the test controls.

`cut()` aborts every connection and refuses new ones on the same port; `restore()` lets
traffic through again; `stall()` stops forwarding broker-to-relay bytes (publishes go
out, confirms never come back) until `restore()`; `delay` holds every broker-to-relay
chunk for that many seconds, so confirms are slow and requests stay in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from yarl import URL


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._refusing = False
        self.delay = 0.0
        self.port = 0

    def url_for(self, amqp_url: str) -> str:
        """`amqp_url` (same credentials and vhost) pointed at this proxy."""
        return str(URL(amqp_url).with_host("127.0.0.1").with_port(self.port))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        """Abort every proxied connection and refuse new ones (the broker looks gone)."""
        self._refusing = True
        self._abort_all()

    def stall(self) -> None:
        """Keep connections open but forward nothing from the broker to the relay."""
        self._flowing.clear()

    def restore(self) -> None:
        self._refusing = False
        self._flowing.set()

    async def close(self) -> None:
        self._refusing = True
        if self._server is not None:
            self._server.close()
        self._abort_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._downstream(up_reader, writer))
        finally:
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        self._drop(writer)

    async def _downstream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Broker to relay: read eagerly, forward each chunk when gate and delay allow."""
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        forward = asyncio.create_task(self._forward(chunks, writer))
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                chunks.put_nowait((time.monotonic(), data))
        chunks.put_nowait((0.0, b""))
        await forward

    async def _forward(
        self, chunks: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while (item := await chunks.get())[1]:
                await asyncio.sleep(max(0.0, item[0] + self.delay - time.monotonic()))
                await self._flowing.wait()
                writer.write(item[1])
                await writer.drain()
        self._drop(writer)

    def _drop(self, writer: asyncio.StreamWriter) -> None:
        self._writers.discard(writer)
        with contextlib.suppress(Exception):
            writer.transport.abort()


@contextlib.asynccontextmanager
async def proxy_to(url: str, default_port: int) -> AsyncIterator[FaultProxy]:
    """A started `FaultProxy` in front of the service at `url`, closed on exit."""
    target = URL(url)
    proxy = FaultProxy(target.port or default_port, target.host or "127.0.0.1")
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
