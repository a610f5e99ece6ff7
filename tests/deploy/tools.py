"""The command-line tools the deployment checks run: fail (never skip) when one is missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

# Debian packages that ship each tool; .ci/run installs them when they are missing.
PACKAGES = {"kubectl": "kubernetes-client", "promtool": "prometheus"}


def require(tool: str) -> str:
    """The tool's path, or a test failure that says how to install it."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} is not installed: apt-get install -y {PACKAGES[tool]} (as .ci/run does)",
            pytrace=False,
        )
    return path


def run(tool: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion; the caller asserts on its exit code and output."""
    return subprocess.run(
        [require(tool), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """The documents `kubectl kustomize DIRECTORY` builds; fails on a build error."""
    result = run("kubectl", "kustomize", str(directory))
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def image_user() -> tuple[int, int]:
    """The Dockerfile's final `USER uid:gid`, which every pod must run as."""
    from tests.ship import dockerfile

    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = [i.split()[1] for i in dockerfile.instructions(text) if i.startswith("USER ")]
    uid, _, gid = users[-1].partition(":")
    return int(uid), int(gid)
