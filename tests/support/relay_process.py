"""The one way to run `relay serve` (or any server) as a real subprocess.

A child runs in its own session, so teardown can SIGKILL the whole group (a relay
started with `--workers N` leaves no orphans). `send()` signals only the main process,
as an orchestrator would; `stop()` is teardown: SIGTERM to the group, SIGKILL after a
grace period. Output goes to a log file the test can read afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from tests.support.ports import free_port

RELAY = (sys.executable, "-m", "relay")


class Child:
    """A subprocess started from `argv` with exactly `env`, its output in `log`."""

    def __init__(
        self, argv: Sequence[str], log: Path, env: Mapping[str, str], cwd: Path | None = None
    ) -> None:
        self.argv, self.log, self.env, self.cwd = list(argv), log, dict(env), cwd
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        return self._started().pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended, else None (polls: never stale)."""
        return self._started().poll()

    def spawn(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def send(self, sig: signal.Signals) -> None:
        """Signal the main process only (its workers hear of it from the supervisor)."""
        self._started().send_signal(sig)

    async def wait_exit(self, within: float) -> int:
        """The exit code; fails if the process still runs after `within` seconds."""
        deadline = time.monotonic() + within
        while (code := self.returncode) is None:
            assert time.monotonic() < deadline, f"{self.argv[:4]} still running after {within}s"
            await asyncio.sleep(0.05)
        return code

    def wait(self, timeout: float) -> int:
        """`wait_exit` for synchronous tests."""
        return self._started().wait(timeout)

    async def stop(self, patience: float = 15.0) -> int:
        """SIGTERM the process group; SIGKILL it if it outstays `patience`. The exit code."""
        if self.process is None:
            return 0
        self._signal_group(signal.SIGTERM)
        with contextlib.suppress(AssertionError):
            return await self.wait_exit(patience)
        return self.kill()

    def kill(self) -> int:
        """SIGKILL the whole process group (the relay and any workers) and reap it."""
        if self.process is None:
            return 0
        self._signal_group(signal.SIGKILL)
        return self.process.wait(10)

    def log_text(self) -> str:
        return self.log.read_bytes().decode(errors="replace") if self.log.exists() else ""

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines the process wrote (other output is left out)."""
        records = []
        for line in self.log_text().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                if isinstance(record := orjson.loads(line), dict):
                    records.append(record)
        return records

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._started().pid, sig)

    def _started(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, "the process was never spawned"
        return self.process


class Server(Child):
    """A child that serves HTTP on 127.0.0.1:`port` and reports ready on /readyz."""

    def __init__(
        self,
        argv: Sequence[str],
        port: int,
        log: Path,
        env: Mapping[str, str],
        cwd: Path | None = None,
    ) -> None:
        super().__init__(argv, log, env, cwd)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, ready_within: float = 20.0) -> None:
        """Spawn the process and wait until its /readyz answers 200."""
        self.spawn()
        await self.wait_ready(ready_within)

    async def wait_ready(self, within: float = 20.0) -> float:
        """Seconds until /readyz answered 200; fails with the log's tail if it never does."""
        begun = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() - begun < within and self.returncode is None:
                if await _answers_ready(session, self.url):
                    return time.monotonic() - begun
                await asyncio.sleep(0.05)
        state = "exited" if self.returncode is not None else f"not ready within {within}s"
        raise AssertionError(f"{self.url} {state}; its output ends:\n{self.log_text()[-2000:]}")


class RelayProcess(Server):
    """`relay serve` on 127.0.0.1:`port`, configured by `env` (RELAY_* settings).

    The process inherits this environment without its RELAY_* variables (so the test's
    own settings are the only ones) and logs JSON, which `log_records()` reads.
    `command` runs relay some other way (another venv, under valgrind, pinned).
    """

    def __init__(
        self,
        env: Mapping[str, str],
        log: Path,
        *,
        port: int | None = None,
        args: Sequence[str] = (),
        command: Sequence[str] = RELAY,
        base_env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        port = port or free_port()
        self.settings_env = dict(env)  # what the caller set: a successor reuses it
        argv = [*command, "serve", "--host", "127.0.0.1", "--port", str(port), *args]
        base = _without_relay_settings(os.environ) if base_env is None else dict(base_env)
        full = base | {"RELAY_LOGGING_FORMAT": "json"} | dict(env)
        super().__init__(argv, port, log, full, cwd)


async def until_ready(base_url: str, within: float) -> float:
    """Poll `base_url`/readyz until it answers 200; the seconds that took (fails after `within`)."""
    begun = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() - begun < within:
            if await _answers_ready(session, base_url):
                return time.monotonic() - begun
            await asyncio.sleep(0.05)
    raise AssertionError(f"{base_url} not ready within {within}s")


async def _answers_ready(session: aiohttp.ClientSession, base_url: str) -> bool:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
        async with session.get(base_url + "/readyz") as response:
            return response.status == 200
    return False


def _without_relay_settings(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith("RELAY_")}
