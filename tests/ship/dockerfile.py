"""Read the Dockerfile the way the tests need it: marked commands, COPY sources, CMD."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[str]:
    """Each instruction on one line (continuations joined), comments kept as lines."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip()]


def marked(text: str, marker: str) -> str:
    """The instruction right after the comment `# ship:<marker>`."""
    lines = instructions(text)
    index = lines.index(f"# ship:{marker}")
    return lines[index + 1]


def install_command(text: str) -> str:
    """The shell command of the marked `RUN` (what `docker build` runs with /bin/sh -c)."""
    return marked(text, "install").removeprefix("RUN ")


def start_command(text: str) -> list[str]:
    """The exec-form `CMD` after the start marker."""
    return list(json.loads(marked(text, "start").removeprefix("CMD ")))


def build_stage(text: str) -> list[str]:
    """Instructions of the first stage (up to the second FROM)."""
    lines = [line for line in instructions(text) if not line.startswith("#")]
    second = [i for i, line in enumerate(lines) if line.startswith("FROM ")][1]
    return lines[:second]


def copies(text: str) -> list[tuple[str, str]]:
    """(source, destination) of each file or directory the build stage COPYs from the context.

    Destinations are relative to WORKDIR; one ending in `/` receives the source by name.
    """
    pairs: list[tuple[str, str]] = []
    for line in build_stage(text):
        if line.startswith("COPY ") and "--from" not in line:
            *sources, dest = shlex.split(line)[1:]
            pairs += [(s, f"{dest}{Path(s).name}" if dest.endswith("/") else dest) for s in sources]
    return pairs


def stage_env(text: str) -> dict[str, str]:
    """The build stage's ENV (KEY=VALUE form)."""
    env: dict[str, str] = {}
    for line in build_stage(text):
        if line.startswith("ENV "):
            env.update(item.split("=", 1) for item in shlex.split(line)[1:])  # type: ignore[misc]
    return env


def healthcheck(text: str) -> list[str]:
    """The exec form of the HEALTHCHECK's CMD."""
    line = next(i for i in instructions(text) if i.startswith("HEALTHCHECK "))
    return list(json.loads(line.split(" CMD ", 1)[1]))
