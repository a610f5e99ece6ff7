"""Grouping deliveries into batches: up to `size` messages, waiting at most `wait` seconds."""

from __future__ import annotations

import asyncio
import time
from typing import Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    """A FIFO buffer the consumer callback fills and the worker drains batch by batch."""

    def __init__(self, size: int, wait: float) -> None:
        self._size = size
        self._wait = wait
        self._buffer: asyncio.Queue[T | None] = asyncio.Queue()

    def put(self, item: T) -> None:
        self._buffer.put_nowait(item)

    def end(self) -> None:
        """No more batches after what is buffered now."""
        self._buffer.put_nowait(None)

    def pending(self) -> int:
        return self._buffer.qsize()

    async def next(self) -> list[T] | None:
        """The next batch (in arrival order), or None once `end` was reached."""
        first = await self._buffer.get()
        if first is None:
            return None
        batch = [first]
        deadline = time.monotonic() + self._wait
        while len(batch) < self._size and (item := await self._get_until(deadline)) is not None:
            batch.append(item)
        return batch

    async def _get_until(self, deadline: float) -> T | None:
        """The next item, waiting until `deadline`; an end marker is put back for `next`."""
        try:
            if self._buffer.empty():
                timeout = max(0.0, deadline - time.monotonic())
                item = await asyncio.wait_for(self._buffer.get(), timeout)
            else:
                item = self._buffer.get_nowait()
        except TimeoutError:
            return None
        if item is None:
            self._buffer.put_nowait(None)
        return item
