"""Checks `make run` makes before and after starting the stack (stdlib only, so they run
before anything heavy is imported and say what is wrong in one line, not a traceback).

    stack_check.py broker          exit 0 if a RabbitMQ answers at RELAY_AMQP_URL(S)
    stack_check.py ready URL SECS LINE   print LINE once URL answers 200 (within SECS)
    stack_check.py free-port       print a TCP port free on 127.0.0.1
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD = 1  # a broker answers the header with connection.start, a method frame
TIMEOUT = 1.0


def broker_urls() -> list[str]:
    many = os.environ.get("RELAY_AMQP_URLS", "")
    urls = [u.strip() for u in many.split(",") if u.strip()]
    return urls or [os.environ.get("RELAY_AMQP_URL") or DEFAULT_URL]


def shown(url: str) -> str:
    """The URL without its credentials: this line goes to a terminal and to logs."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return f"{parts.scheme}://{host}:{port_of(url)}{parts.path or '/'}"


def port_of(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (5671 if parts.scheme == "amqps" else 5672)


def answers(url: str) -> str | None:
    """None if a broker answers at `url`, else why not (a few words)."""
    host = urlsplit(url).hostname or "127.0.0.1"
    try:
        with socket.create_connection((host, port_of(url)), timeout=TIMEOUT) as sock:
            if urlsplit(url).scheme == "amqps":
                return None  # TLS: a TCP accept is as far as a stdlib probe goes
            sock.sendall(PROTOCOL_HEADER)
            first = sock.recv(1)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None if first and first[0] == FRAME_METHOD else "not an AMQP 0-9-1 broker"


def check_broker() -> int:
    urls = broker_urls()
    reasons = [(url, answers(url)) for url in urls]
    failed = [(url, why) for url, why in reasons if why is not None]
    if len(failed) < len(urls):
        return 0
    url, why = failed[0]
    print(
        f"no RabbitMQ at {shown(url)} ({why}): start one, or set RELAY_AMQP_URL",
        file=sys.stderr,
    )
    return 1


def wait_ready(url: str, seconds: float, line: str) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_ready(url):
            print(line, flush=True)
            return 0
        time.sleep(0.2)
    print(f"run-stack: not ready at {url} after {seconds:g}s (see the log above)", file=sys.stderr)
    return 1


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str]) -> int:
    if argv[:1] == ["broker"]:
        return check_broker()
    if argv[:1] == ["ready"] and len(argv) == 4:
        return wait_ready(argv[1], float(argv[2]), argv[3])
    if argv[:1] == ["free-port"]:
        print(free_port())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
