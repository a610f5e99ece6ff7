"""Running podman (and podman-compose) the way the container suite needs it.

Every call gets CONTAINERS_CONF=tests/containers/containers.conf (runc, cgroupfs, explicit
ulimits: what makes podman work as root on this machine). Failures raise with podman's own
output, so a test that cannot run containers fails and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.ship.dockerfile import ROOT

HERE = Path(__file__).resolve().parent
CONF = HERE / "containers.conf"
IMAGES_SCRIPT = ROOT / "scripts" / "container-images"
# The compose file names this image; the suite builds it from the repository under that name.
IMAGE = "localhost/sinch-sms-relay:local"
BASE = "docker.io/library/python:3.11-slim"


def env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONF))}


def run(
    *args: str, check: bool = True, timeout: float = 120, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """`podman ARGS` (after `prefix`, e.g. nsenter); raise with its output if `check` fails."""
    result = subprocess.run(
        [*prefix, "podman", *args],
        env=env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"podman {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def require_podman() -> None:
    """Fail (never skip) when podman is not installed."""
    if shutil.which("podman") is None:
        raise AssertionError(
            "podman is not installed: run `scripts/container-images --install` "
            "(what .ci/run does) to install podman, runc, podman-compose and debootstrap"
        )


def ensure_base_images() -> str:
    """Run scripts/container-images (cached: seconds when the images are current)."""
    result = subprocess.run(
        [str(IMAGES_SCRIPT)], env=env(), capture_output=True, text=True, check=False, timeout=900
    )
    if result.returncode != 0:
        raise AssertionError(
            "could not make the base images (scripts/container-images):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def build(tag: str, dockerfile: Path, context: Path = ROOT) -> None:
    """`podman build` as a user would, with a local base image and the host's network."""
    run(
        "build",
        "--format",
        "docker",
        "--pull=never",
        "--network",
        "host",
        "-q",
        "-f",
        str(dockerfile),
        "-t",
        tag,
        str(context),
        timeout=600,
    )


def inspect_image(ref: str) -> dict[str, Any]:
    data: list[dict[str, Any]] = json.loads(run("image", "inspect", ref).stdout)
    return data[0]


def inspect_container(name: str) -> dict[str, Any]:
    data: list[dict[str, Any]] = json.loads(run("container", "inspect", name).stdout)
    return data[0]


def healthcheck(name: str, prefix: Sequence[str] = ()) -> bool:
    """Run the container's configured HEALTHCHECK once (no systemd timers here)."""
    return run("healthcheck", "run", name, check=False, prefix=prefix).returncode == 0


def wait_healthy(name: str, timeout: float, prefix: Sequence[str] = ()) -> float:
    """Probe until the container's healthcheck passes; the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while not healthcheck(name, prefix):
        state = inspect_container(name)["State"]
        if not state["Running"]:
            logs = run("logs", name, check=False)
            raise AssertionError(
                f"{name} exited ({state['ExitCode']}) before it was healthy:\n"
                f"{logs.stdout[-2000:]}{logs.stderr[-2000:]}"
            )
        if time.monotonic() > deadline:
            logs = run("logs", name, check=False)
            raise AssertionError(
                f"{name} not healthy within {timeout:.0f} s:\n{logs.stderr[-2000:]}"
            )
        time.sleep(0.5)
    return time.monotonic()


def remove(*names: str) -> None:
    if names:
        run("rm", "-f", "-t", "0", *names, check=False)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
