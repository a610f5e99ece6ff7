"""Session fixtures of the container suite: podman, the base images, the image under test.

Nothing here skips: without podman or a base image the tests fail and say what to run.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.containers import podman
from tests.ship.dockerfile import DOCKERFILE, ROOT

# Figures the suite measures, printed at the end of the run.
REPORT: dict[str, str] = {}


@pytest.fixture(scope="session")
def base_images() -> str:
    """The stand-in base images (scripts/container-images; cached between runs)."""
    podman.require_podman()
    start = time.monotonic()
    out = podman.ensure_base_images()
    REPORT["base images"] = f"{time.monotonic() - start:.1f} s ({out.count('building')} built)"
    return out


@pytest.fixture(scope="session")
def relay_image(base_images: str) -> dict[str, Any]:
    """The repository's Dockerfile, unchanged, built with podman; its `image inspect`."""
    start = time.monotonic()
    podman.build(podman.IMAGE, DOCKERFILE, ROOT)
    REPORT["image build"] = f"{time.monotonic() - start:.1f} s"
    return podman.inspect_image(podman.IMAGE)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORT:
        terminalreporter.section("containers")
        for key, value in REPORT.items():
            terminalreporter.write_line(f"{key}: {value}")
