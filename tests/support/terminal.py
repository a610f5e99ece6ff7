"""Reading what a child process wrote to a pseudo-terminal."""

from __future__ import annotations

import os


def read_all(leader: int) -> bytes:
    """Everything written to the pty whose leader end is `leader`, once every writer closed
    it (reading then fails with EIO); closes `leader`. Bytes as the terminal got them."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks)
