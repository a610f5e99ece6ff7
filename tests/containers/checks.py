"""What the container suite asserts, as pure functions over what podman reports.

Each returns a list of problems (empty when the image is right), so the same function
serves the real image's tests and the mutation tests that prove it can fail.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from tests.ship.dockerfile import ROOT

SHELLS = {"sh", "bash", "dash", "ash"}
COMPILERS = re.compile(
    r"^(cc|c\+\+|c89|c99|gcc|g\+\+|cpp|clang|clang\+\+|tcc|ld|as|rustc|go|"
    r"([a-z0-9_]+-linux-gnu-)?(gcc|g\+\+|cpp|ld|as)(-[0-9.]+)?|gcc-[0-9.]+)$"
)
BIN_DIRS = ("usr/bin", "usr/local/bin", "bin", "usr/sbin", "sbin", "opt/venv/bin")
PRIVATE_KEY = re.compile(rb"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----")
SECRET_NAMES = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/@:\s]+:[^/@\s]+@")
SECRET_FILES = {".env", "id_rsa", "id_ed25519", ".netrc", ".pypirc", ".git-credentials"}


def _is_root(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return name in ("", "0", "root")


def _is_shell_form(argv: Iterable[str] | None) -> bool:
    args = list(argv or [])
    return len(args) >= 2 and PurePosixPath(args[0]).name in SHELLS and args[1] == "-c"


def config_problems(image: Mapping[str, Any]) -> list[str]:
    """The image config (`podman image inspect`): non-root, exec-form CMD, a HEALTHCHECK."""
    config = image.get("Config") or {}
    problems = []
    if _is_root(str(config.get("User") or "")):
        problems.append(f"runs as root (USER {config.get('User')!r})")
    cmd = config.get("Cmd") or []
    if not cmd:
        problems.append("no CMD")
    elif _is_shell_form(cmd):
        problems.append(f"shell-form CMD {cmd!r}: the shell, not the process, gets SIGTERM")
    if config.get("Entrypoint"):
        problems.append(f"ENTRYPOINT {config['Entrypoint']!r}: compose commands would be its args")
    health = image.get("Healthcheck") or config.get("Healthcheck") or {}
    test = list(health.get("Test") or [])
    if not test or test[0] == "NONE":
        problems.append("no HEALTHCHECK")
    elif test[0] != "CMD" or len(test) < 2:
        problems.append(f"HEALTHCHECK is not exec form: {test!r}")
    signal = config.get("StopSignal") or "SIGTERM"
    if signal not in ("SIGTERM", "15"):
        problems.append(f"STOPSIGNAL {signal}: the relay drains on SIGTERM")
    return problems


def pid1_problems(status: str, cmdline: bytes, program: str) -> list[str]:
    """/proc/1/status and /proc/1/cmdline of a running container: `program` as non-root PID 1."""
    problems = []
    uids = next((line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")), [])
    if not uids or "0" in uids:
        problems.append(f"PID 1 runs with uids {uids}")
    argv = [a.decode() for a in cmdline.split(b"\0") if a]
    names = [PurePosixPath(a).name for a in argv]
    if not names or names[0] in SHELLS:
        problems.append(f"PID 1 is a shell: {argv}")
    elif program not in names[:2]:
        problems.append(f"PID 1 is not {program}: {argv}")
    return problems


def _dist_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _dist_name(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])


def dev_only_distributions(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    """Distributions the test and dev extras add on top of the runtime dependencies."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    runtime = {_requirement_name(r) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    wanted = {_requirement_name(r) for group in ("test", "dev") for r in extras[group]}
    return wanted - runtime - {_dist_name(project["name"])}


def installed_distributions(rootfs: Path) -> set[str]:
    """Names of the distributions in the image's virtualenv."""
    found = rootfs.glob("opt/venv/lib/python*/site-packages/*.dist-info")
    return {_dist_name(path.name.removesuffix(".dist-info").rsplit("-", 1)[0]) for path in found}


def compilers(rootfs: Path) -> list[str]:
    """Compilers, assemblers and linkers on the image's PATH dirs (and gcc's cc1)."""
    hits = [
        f"/{d}/{entry.name}"
        for d in BIN_DIRS
        if (rootfs / d).is_dir()
        for entry in sorted((rootfs / d).iterdir())
        if COMPILERS.match(entry.name)
    ]
    hits += [f"/{p.relative_to(rootfs)}" for p in rootfs.glob("usr/lib/gcc/*/*/cc1*")]
    return hits


def secret_files(rootfs: Path, dirs: Iterable[str] = ("app", "opt/venv", "root")) -> list[str]:
    """Private keys and credential files under `dirs`, plus repository leftovers in /app."""
    hits = []
    for d in dirs:
        for path in sorted((rootfs / d).rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            if path.name in SECRET_FILES or PRIVATE_KEY.search(path.read_bytes()):
                hits.append(f"/{path.relative_to(rootfs)}")
    hits += [f"/app/{n}" for n in (".git", "tests", ".venv") if (rootfs / "app" / n).exists()]
    return hits


def secret_env(env: Iterable[str]) -> list[str]:
    """ENV entries that look like credentials (names, or URLs with a password)."""
    hits = []
    for item in env:
        name, _, value = item.partition("=")
        if SECRET_NAMES.search(name) or URL_WITH_PASSWORD.search(value):
            hits.append(name)
    return hits


def content_problems(rootfs: Path, image: Mapping[str, Any]) -> list[str]:
    """No compiler, no test-only distribution, no secret in files or ENV."""
    problems = [f"compiler {c}" for c in compilers(rootfs)]
    leaked = sorted(installed_distributions(rootfs) & dev_only_distributions())
    problems += [f"test dependency {name}" for name in leaked]
    problems += [f"secret file {f}" for f in secret_files(rootfs)]
    env = (image.get("Config") or {}).get("Env") or []
    problems += [f"secret in ENV {name}" for name in secret_env(env)]
    return problems
