"""Free TCP ports on 127.0.0.1, for servers the tests and the bench start."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port nothing listens on right now (127.0.0.1).

    The port is released before returning, so another process could take it first;
    on a test machine that race is rare enough, and the caller fails loudly if it happens.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
