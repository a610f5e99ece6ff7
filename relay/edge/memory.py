"""Give memory freed after a burst of client traffic back to the system (glibc only).

A hostile burst (stalled 1 MiB bodies, a flood of deeply nested ones) leaves the heap
fragmented: Python frees the objects, but glibc keeps the pages, so RSS stayed ~80%
above its start after an attack run. Two cheap measures: a fixed mmap threshold, so
every buffer of 128 KiB or more (request bodies) is its own mapping, unmapped when freed,
instead of the threshold creeping up to 1 MiB after the first large free; and a periodic
`malloc_trim`, which returns free pages from the middle of the heap too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
from collections.abc import AsyncIterator

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
_MMAP_THRESHOLD = 128 * 1024
_TRIM_EVERY = 10.0  # seconds; a trim of a ~100 MB heap takes about a millisecond


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


@contextlib.asynccontextmanager
async def returned_to_the_system() -> AsyncIterator[None]:
    """While the block runs, keep large buffers unmapped on free and trim the heap."""
    libc = _libc()
    if libc is None:  # musl, macOS: nothing to tune
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    task = asyncio.create_task(_trim_forever(libc))
    try:
        yield
    finally:
        task.cancel()


async def _trim_forever(libc: ctypes.CDLL) -> None:
    while True:
        await asyncio.sleep(_TRIM_EVERY)
        libc.malloc_trim(0)
