"""What `make run` installs (the runtime only) and what `make test`/`make lint` add."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _plan(target: str, tmp_path: Path) -> str:
    """The commands `make TARGET` would run into a fresh venv (`make -n`: nothing runs)."""
    done = subprocess.run(
        ["make", "-n", target, f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


def _installs(plan: str) -> list[str]:
    lines = [line for line in plan.splitlines() if "/bin/pip install " in line]
    assert lines, plan
    return lines


def test_make_run_installs_the_runtime_without_the_dev_tools(tmp_path: Path) -> None:
    """`make run` installs `-e .` only: no test or lint extras."""
    plan = _plan("run", tmp_path)
    assert any(line.endswith("-c constraints.txt -e .") for line in _installs(plan))
    assert "[dev]" not in plan
    assert f'PATH="{tmp_path / "venv" / "bin"}:' in plan


def test_make_test_and_lint_add_the_dev_extras(tmp_path: Path) -> None:
    """`make test` and `make lint` (and `make install`, which CI runs) install `.[dev]`."""
    for target in ("install", "test", "lint"):
        assert any("-e '.[dev]'" in line for line in _installs(_plan(target, tmp_path)))


def test_installs_are_quiet(tmp_path: Path) -> None:
    """Every pip call is quiet, without the version nag or the build backend's warnings."""
    for line in _installs(_plan("install", tmp_path)):
        assert "--quiet" in line
        assert "PIP_DISABLE_PIP_VERSION_CHECK=1" in line
        assert "PYTHONWARNINGS=ignore" in line


def test_the_license_is_an_spdx_string_so_setuptools_does_not_warn() -> None:
    """A TOML-table license makes setuptools>=77 print a deprecation banner on every build."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in project["build-system"]["requires"]
