"""`relay serve` that cannot listen says why in one line and exits 2 (no broker needed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.ports import free_port

NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"  # refused at once: the listener fails first


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELAY_AMQP_URL": NO_BROKER, "RELAY_LOGGING_FORMAT": "json"}
    return subprocess.run(
        [sys.executable, "-m", "relay", "serve", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _plain_lines(stderr: str) -> list[str]:
    """What stderr says besides JSON log lines: the error, and nothing else."""
    return [line for line in stderr.splitlines() if not line.startswith("{")]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port held by a listener without SO_REUSEPORT (any other program)."""
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield port


def test_an_address_not_on_this_host_is_one_line_and_exit_2() -> None:
    """192.0.2.1 (TEST-NET-1) is no address of this machine."""
    port = str(free_port())
    done = _serve("--host", "192.0.2.1", "--port", port)
    assert done.returncode == 2
    assert _plain_lines(done.stderr) == [
        f"relay: cannot listen: 192.0.2.1:{port} is not an address of this host"
    ]


def test_an_unknown_host_name_is_one_line_and_exit_2() -> None:
    """A listen address that does not resolve (.invalid never does)."""
    done = _serve("--host", "no-such-host.invalid", "--port", str(free_port()))
    assert done.returncode == 2
    [line] = _plain_lines(done.stderr)
    assert line.startswith("relay: cannot listen: no-such-host.invalid:")
    assert "unknown host" in line


def test_a_busy_port_is_one_line_and_exit_2(busy_port: int) -> None:
    """Held by something that is not a relay: the same one line."""
    done = _serve("--host", "127.0.0.1", "--port", str(busy_port))
    assert done.returncode == 2
    assert _plain_lines(done.stderr) == [
        f"relay: cannot listen: 127.0.0.1:{busy_port} is already in use (another relay?)"
    ]


def test_workers_that_cannot_listen_stop_the_supervisor_with_exit_2(busy_port: int) -> None:
    """`--workers 2` on a busy port: no restart loop; each worker's line, then exit 2."""
    done = _serve("--host", "127.0.0.1", "--port", str(busy_port), "--workers", "2")
    assert done.returncode == 2
    assert set(_plain_lines(done.stderr)) == {
        f"relay: cannot listen: 127.0.0.1:{busy_port} is already in use (another relay?)"
    }
    assert "Traceback" not in done.stderr + done.stdout
