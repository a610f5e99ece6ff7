"""RabbitMQ nodes the fault tests start, disturb and destroy: never the machine's shared one.

Each node has its own name (`relayf<N>@localhost`), AMQP and distribution ports on
127.0.0.1, data and log folders, plugin file (none enabled, so no management or
prometheus listener) and configuration file; the shared `/etc/rabbitmq` files are
bypassed. All nodes of a test session share an Erlang cookie in their own HOME.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.ports import free_port

SBIN = Path("/usr/lib/rabbitmq/bin")
START_TIMEOUT = 60.0


def make_home(base: Path) -> Path:
    """A HOME holding a fresh Erlang cookie shared by every node and CLI call under it."""
    home = base / "home"
    home.mkdir(parents=True, exist_ok=True)
    cookie = home / ".erlang.cookie"
    cookie.write_text(secrets.token_hex(16).upper())
    cookie.chmod(0o400)
    return home


@dataclasses.dataclass
class RabbitNode:
    """One broker node: started as our own process group, so it can be killed by id."""

    name: str
    home: Path
    base: Path
    port: int = dataclasses.field(default_factory=free_port)
    dist_port: int = dataclasses.field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def nodename(self) -> str:
        return f"{self.name}@localhost"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self) -> None:
        """Launch the node process (returns at once; `wait_started` blocks)."""
        self._write_files()
        (self.base / "node.pid").unlink(missing_ok=True)
        log = (self.base / "server.out").open("ab")
        self.process = subprocess.Popen(
            [str(SBIN / "rabbitmq-server")],
            env=self._env(),
            cwd=self.base,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_started(self) -> None:
        pid_file = self.base / "node.pid"
        self._wait_pid_written(pid_file)
        limit = str(int(START_TIMEOUT))
        self.ctl("wait", str(pid_file), "--timeout", limit, timeout=START_TIMEOUT + 5)

    def _wait_pid_written(self, pid_file: Path) -> None:
        """Until the node has written its pid: `rabbitmqctl wait` reads the file as soon as
        it exists and fails with garbage_in_pid_file if that is before the write (seen in CI).
        """
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if pid_file.read_text().strip().isdigit():
                    return
            if self.process is not None and self.process.poll() is not None:
                return  # exited: `rabbitmqctl wait` reports it with the node's output
            time.sleep(0.1)

    def stop(self) -> None:
        """A graceful `rabbitmqctl stop`: the node shuts down cleanly and exits."""
        self.ctl("stop", timeout=60)
        self._reap(timeout=30)

    def kill(self) -> None:
        """SIGKILL the node's whole process group (beam and its helpers)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._reap(timeout=10)

    def ctl(self, *args: str, timeout: float = 30) -> str:
        """Run `rabbitmqctl -n <this node> ...`; raise with its output if it fails."""
        done = subprocess.run(
            [str(SBIN / "rabbitmqctl"), "-n", self.nodename, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def _reap(self, timeout: float) -> None:
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
            self.process = None

    def _env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        return keep | {
            "HOME": str(self.home),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "node.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def _write_files(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "loopback_users = none\n"
            "cluster_partition_handling = ignore\n"
        )
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "enabled_plugins").write_text("[].\n")


def start_nodes(nodes: Sequence[RabbitNode]) -> None:
    """Start several nodes in parallel and wait for all of them (a few seconds each)."""
    for node in nodes:
        node.start()
    for node in nodes:
        node.wait_started()


def join_cluster(seed: RabbitNode, others: Sequence[RabbitNode]) -> None:
    """Join `others` to `seed`'s cluster with stop_app / join_cluster / start_app."""
    for node in others:
        node.ctl("stop_app")
        node.ctl("join_cluster", seed.nodename)
        node.ctl("start_app")
    deadline = time.monotonic() + 30
    while len(running_nodes(seed)) < len(others) + 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"cluster did not form: {running_nodes(seed)}")
        time.sleep(0.5)


def running_nodes(node: RabbitNode) -> list[str]:
    out = node.ctl("eval", "rabbit_nodes:all_running().")
    return [n for n in out.replace("[", " ").replace("]", " ").replace(",", " ").split() if n]


def quorum_members(node: RabbitNode, queue: str) -> tuple[list[str], str]:
    """The nodes holding a quorum queue's replicas, and its leader."""
    out = node.ctl("list_queues", "name", "members", "leader", "--formatter", "json", "-q")
    for row in json.loads(out):
        if row["name"] == queue:
            return list(row["members"]), str(row["leader"])
    raise LookupError(queue)


def destroy(nodes: Sequence[RabbitNode]) -> None:
    """Kill every node (whatever state it is in) and remove its folders."""
    for node in nodes:
        node.kill()
        shutil.rmtree(node.base, ignore_errors=True)
