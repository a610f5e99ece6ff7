"""`relay serve --workers N`: N relay processes sharing one port (SO_REUSEPORT).

Each worker is a complete relay (its own event loop, AMQP connection and confirm
channel), so a multi-core machine publishes on every core. The supervisor only starts
workers, forwards SIGTERM/SIGINT so each drains as a single relay does, and restarts a
worker that died on its own; one that exits 2 (it cannot start: a configuration or bind
error, said in one line) stops them all, and the supervisor exits 2.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

import structlog

log = structlog.get_logger("relay.supervisor")

_RESTART_PAUSE = 1.0
EXIT_CANNOT_START = 2  # a worker's configuration or bind error: restarting cannot help


class Supervisor:
    def __init__(self, worker_argv: Sequence[str], workers: int) -> None:
        self._argv = [sys.executable, "-m", "relay", *worker_argv]
        self._count = workers
        self._children: list[subprocess.Popen[bytes]] = []
        self._stopping = False
        self._failed = False
        self._signal = 0

    def run(self) -> int:
        """Start the workers and keep them running until a signal; return an exit code."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self._children = [self._spawn(i) for i in range(self._count)]
        while not self._stopping:
            self._restart_dead()
            time.sleep(0.2)
        return self._wait_all()

    def _spawn(self, index: int) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(self._argv)
        log.info("supervisor.worker_started", worker=index, pid=child.pid)
        return child

    def _restart_dead(self) -> None:
        for index, child in enumerate(self._children):
            if child.poll() is None or self._stopping:
                continue
            if child.returncode == EXIT_CANNOT_START:
                self._give_up(index, child)
                return
            log.error(
                "supervisor.worker_died", worker=index, pid=child.pid, exit_code=child.returncode
            )
            time.sleep(_RESTART_PAUSE)
            if not self._stopping:
                self._children[index] = self._spawn(index)

    def _give_up(self, index: int, child: subprocess.Popen[bytes]) -> None:
        """A worker that cannot start (its one line said why) would fail again: stop all."""
        log.error("supervisor.worker_cannot_start", worker=index, pid=child.pid)
        self._failed = True
        self._on_signal(signal.SIGTERM, None)

    def _on_signal(self, signum: int, _: FrameType | None) -> None:
        self._stopping = True
        self._signal = signum
        for child in self._children:
            if child.poll() is None:
                child.send_signal(signum)

    def _wait_all(self) -> int:
        codes = [child.wait() for child in self._children]
        log.info("supervisor.stopped", exit_codes=codes)
        if self._failed:
            return EXIT_CANNOT_START
        # A worker still starting when the signal came dies of it: nothing was in flight.
        return 0 if all(code in (0, -self._signal) for code in codes) else 1
