"""Returning freed memory to the system: on where glibc offers it, harmless elsewhere."""

from __future__ import annotations

import asyncio

from relay.edge import memory


async def test_trimming_runs_while_serving_and_stops_after() -> None:
    """The block runs normally and leaves no task behind."""
    before = len(asyncio.all_tasks())
    async with memory.returned_to_the_system():
        await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == before + (memory._libc() is not None)
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before
