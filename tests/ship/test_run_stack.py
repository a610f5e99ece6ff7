"""`make run` (scripts/run-stack): one process ending ends the run, no broker is one line.

The relay and the consumers are stand-in shell scripts on PATH that record their pid;
the broker check talks to a socket that answers like RabbitMQ does.
"""

from __future__ import annotations

import os
import pty
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.terminal import read_all

ROOT = Path(__file__).resolve().parents[2]
RUN_STACK = ROOT / "scripts" / "run-stack"
CONNECTION_START = b"\x01\x00\x00\x00\x00\x01\xf4"  # the start of a broker's first frame

RUNS = "echo $$ > {pids}/{name}; exec sleep 60"
EXITS = "echo $$ > {pids}/{name}; exit {status}"
IGNORES_TERM = "echo $$ > {pids}/{name}; trap '' TERM; while :; do sleep 0.1; done"


@pytest.fixture
def fake_broker() -> Iterator[str]:
    """An AMQP URL whose listener answers the protocol header as a broker would."""
    server = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_answer_forever, args=(server,), daemon=True).start()
    yield f"amqp://guest:guest@127.0.0.1:{server.getsockname()[1]}/"
    server.close()


def _answer_forever(server: socket.socket) -> None:
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.recv(8)
            conn.sendall(CONNECTION_START)


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _stack(tmp_path: Path, relay: str, inbound: str, reports: str = RUNS) -> Path:
    """A PATH dir with `relay` and `python -m consumers KIND` stand-ins; pids go to pids/."""
    bin_dir, pids = tmp_path / "bin", tmp_path / "pids"
    bin_dir.mkdir()
    pids.mkdir()
    _stub(bin_dir, "relay", relay.format(pids=pids, name="relay", status=0))
    kinds = {"inbound": inbound, "delivery-reports": reports}
    cases = "".join(
        f'  "-m consumers {kind}") {body.format(pids=pids, name=kind, status=3)} ;;\n'
        for kind, body in kinds.items()
    )
    _stub(bin_dir, "python", f'case "$*" in\n{cases}  *) exit 99 ;;\nesac')
    return bin_dir


def _env(bin_dir: Path, amqp_url: str, **extra: str) -> dict[str, str]:
    python_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:{python_dir}:/usr/bin:/bin",
        "HOME": str(bin_dir.parent),
        "RELAY_AMQP_URL": amqp_url,
        "RELAY_HTTP_PORT": "1",  # readiness never comes; the run goes on without the line
        "RELAY_RUN_READY_SECONDS": "30",
        **extra,
    }


def _run(bin_dir: Path, amqp_url: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUN_STACK)],
        env=_env(bin_dir, amqp_url, **extra),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _running(pid_file: Path) -> bool:
    """Whether the stand-in runs; one stopped before it wrote its pid never ran."""
    pid = pid_file.read_text().strip() if pid_file.exists() else ""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path.name} never started"
        time.sleep(0.05)


def test_a_failing_consumer_stops_the_relay_and_the_run_fails(
    tmp_path: Path, fake_broker: str
) -> None:
    """The inbound consumer exits 3: the relay and the other consumer are gone, status 3."""
    done = _run(_stack(tmp_path, relay=RUNS, inbound=EXITS), fake_broker)
    assert done.returncode == 3
    assert "inbound exited with status 3" in done.stderr
    assert not _running(tmp_path / "pids" / "relay")
    assert not _running(tmp_path / "pids" / "delivery-reports")


def test_a_process_ending_cleanly_still_ends_the_run_as_a_failure(
    tmp_path: Path, fake_broker: str
) -> None:
    """The relay exits 0 unexpectedly: the consumers are stopped and the run exits 1."""
    done = _run(_stack(tmp_path, relay=EXITS, inbound=RUNS), fake_broker)
    assert done.returncode == 1
    assert not _running(tmp_path / "pids" / "inbound")
    assert not _running(tmp_path / "pids" / "delivery-reports")


def test_a_process_ignoring_sigterm_is_killed_after_the_bound(
    tmp_path: Path, fake_broker: str
) -> None:
    """A consumer that will not stop on SIGTERM is SIGKILLed once the stop bound passes."""
    bin_dir = _stack(tmp_path, relay=EXITS, inbound=RUNS, reports=IGNORES_TERM)
    done = _run(bin_dir, fake_broker, RELAY_RUN_STOP_SECONDS="1")
    assert done.returncode == 1
    assert not _running(tmp_path / "pids" / "delivery-reports")


def test_sigterm_stops_every_process_and_the_run_exits_zero(
    tmp_path: Path, fake_broker: str
) -> None:
    """A requested stop (SIGTERM, as Ctrl-C is SIGINT) drains all three and succeeds."""
    bin_dir = _stack(tmp_path, relay=RUNS, inbound=RUNS)
    run = subprocess.Popen([str(RUN_STACK)], env=_env(bin_dir, fake_broker))
    for name in ("relay", "inbound", "delivery-reports"):
        _wait_for(tmp_path / "pids" / name)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=20) == 0
    assert not any(_running(tmp_path / "pids" / n) for n in ("relay", "inbound"))


def test_no_broker_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    """RELAY_AMQP_URL at a closed port: one line naming it (no password), exit 1, fast."""
    bin_dir = _stack(tmp_path, relay=RUNS, inbound=RUNS)
    started = time.monotonic()
    done = _run(bin_dir, "amqp://guest:hunter2@127.0.0.1:1/")
    assert time.monotonic() - started < 5
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "no RabbitMQ at amqp://127.0.0.1:1/ (Connection refused): start one, or set RELAY_AMQP_URL"
    ]
    assert not (tmp_path / "pids" / "relay").exists()


def test_something_that_is_not_a_broker_is_reported_as_such(tmp_path: Path) -> None:
    """A listener that does not speak AMQP (here: silent) fails the check within seconds."""
    silent = socket.create_server(("127.0.0.1", 0))
    with silent:
        url = f"amqp://127.0.0.1:{silent.getsockname()[1]}/"
        done = _run(_stack(tmp_path, relay=RUNS, inbound=RUNS), url)
    assert done.returncode == 1
    assert done.stderr.startswith(f"no RabbitMQ at {url} (")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.integration
def test_the_private_broker_starts_answers_and_stops_without_leftovers(tmp_path: Path) -> None:
    """scripts/private-broker: a node on a free port, data in RELAY_RUN_DIR, gone after stop."""
    port = free_port()
    env = os.environ | {
        "RELAY_RUN_DIR": str(tmp_path),
        "RELAY_RUN_BROKER_PORT": str(port),
        "RELAY_RUN_NODE": f"relayrun{port}",
    }
    script = str(ROOT / "scripts" / "private-broker")
    subprocess.run([script, "start"], env=env, check=True, timeout=90)
    try:
        group = int((tmp_path / "rabbitmq" / "group.pid").read_text())
        probe = [sys.executable, str(ROOT / "scripts" / "stack_check.py"), "broker"]
        url = {"RELAY_AMQP_URL": f"amqp://127.0.0.1:{port}/"}
        assert subprocess.run(probe, env=os.environ | url, check=False).returncode == 0
    finally:
        subprocess.run([script, "stop"], env=env, check=True, timeout=60)
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)


SPEAKS = (
    'echo $$ > {pids}/{name}; echo \'{{"event":"{name}.started"}}\'; '
    'echo "plain from {name}, format=$RELAY_LOGGING_FORMAT" >&2; exec sleep 60'
)


def test_off_a_terminal_each_json_line_names_its_process(tmp_path: Path, fake_broker: str) -> None:
    """Piped output stays JSON lines, each with "process" first; other lines get a prefix."""
    bin_dir = _stack(tmp_path, relay=SPEAKS.replace("exec sleep 60", "exit 0"), inbound=RUNS)
    done = _run(bin_dir, fake_broker)
    assert '{"process":"relay","event":"relay.started"}' in done.stdout.splitlines()
    assert "relay | plain from relay, format=" in done.stdout.splitlines()


def test_on_a_terminal_each_line_is_prefixed_and_logs_are_a_console(
    tmp_path: Path, fake_broker: str
) -> None:
    """Under a pty: "relay            | ..." and the processes told to log as a console."""
    bin_dir = _stack(tmp_path, relay=SPEAKS.replace("exec sleep 60", "exit 0"), inbound=RUNS)
    leader, follower = pty.openpty()
    run = subprocess.Popen(
        [str(RUN_STACK)], env=_env(bin_dir, fake_broker), stdout=follower, stderr=follower
    )
    os.close(follower)
    output = read_all(leader).replace(b"\r\n", b"\n")
    assert run.wait(timeout=20) == 1
    lines = output.decode().splitlines()
    assert 'relay            | {"event":"relay.started"}' in lines
    assert "relay            | plain from relay, format=console" in lines
