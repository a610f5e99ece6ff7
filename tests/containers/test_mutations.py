"""Tests of the tests: the container suite's checks catch a broken image.

Cheap first: the pure checks against mutated copies of the real image's inspect output and
a fake root filesystem. Then four real `podman build`s of mutated Dockerfiles (runs as
root, shell-form CMD, no HEALTHCHECK, consumers left out of the build), each judged by the
same function the suite applies to the real image.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.containers import checks, podman, probes
from tests.ship.dockerfile import DOCKERFILE, ROOT

pytestmark = [pytest.mark.containers, pytest.mark.timeout(300)]

TEXT = DOCKERFILE.read_text(encoding="utf-8")
CONSUMER_COMMAND = ["python", "-m", "consumers", "inbound"]


def _mutated(image: dict[str, Any], **config: Any) -> dict[str, Any]:
    mutant = copy.deepcopy(image)
    mutant["Config"].update(config)
    return mutant


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"User": ""}, "runs as root"),
        ({"User": "root"}, "runs as root"),
        ({"User": "0:0"}, "runs as root"),
        ({"Cmd": ["/bin/sh", "-c", "relay serve"]}, "shell-form CMD"),
        ({"Entrypoint": ["/bin/sh", "-c"]}, "ENTRYPOINT"),
        ({"StopSignal": "SIGKILL"}, "STOPSIGNAL"),
    ],
)
def test_config_check_catches(
    relay_image: dict[str, Any], config: dict[str, Any], problem: str
) -> None:
    """Each mutation of the real image's config is reported; the real one is not."""
    assert checks.config_problems(relay_image) == []
    assert any(problem in p for p in checks.config_problems(_mutated(relay_image, **config)))


@pytest.mark.parametrize("health", [None, {"Test": ["NONE"]}, {"Test": ["CMD-SHELL", "true"]}])
def test_config_check_catches_a_missing_or_shell_healthcheck(
    relay_image: dict[str, Any], health: dict[str, Any] | None
) -> None:
    mutant = copy.deepcopy(relay_image)
    mutant["Healthcheck"] = health
    mutant["Config"].pop("Healthcheck", None)
    assert any("HEALTHCHECK" in p for p in checks.config_problems(mutant))


def test_pid1_check_catches_root_and_a_shell() -> None:
    ok = "Name:\trelay\nUid:\t10001\t10001\t10001\t10001\n"
    relay = b"/opt/venv/bin/python\0/opt/venv/bin/relay\0serve\0"
    assert checks.pid1_problems(ok, relay, "relay") == []
    root = ok.replace("10001", "0")
    assert any("uids" in p for p in checks.pid1_problems(root, relay, "relay"))
    shell = b"/bin/sh\0-c\0relay serve\0"
    assert any("shell" in p for p in checks.pid1_problems(ok, shell, "relay"))
    other = b"/opt/venv/bin/python\0-m\0http.server\0"
    assert any("not relay" in p for p in checks.pid1_problems(ok, other, "relay"))


def test_content_check_catches_compiler_test_dependency_and_secrets(tmp_path: Path) -> None:
    site = tmp_path / "opt/venv/lib/python3.11/site-packages"
    (site / "aiohttp-3.14.0.dist-info").mkdir(parents=True)
    (tmp_path / "app/config").mkdir(parents=True)
    image = {"Config": {"Env": ["PATH=/opt/venv/bin:/usr/bin", "RELAY_LOGGING_FORMAT=json"]}}
    assert checks.content_problems(tmp_path, image) == []
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/x86_64-linux-gnu-gcc-12").write_text("")
    (site / "pytest-8.3.0.dist-info").mkdir()
    (tmp_path / "app/config/tls.key").write_text("-----BEGIN RSA PRIVATE KEY-----\n")
    (tmp_path / "app/.env").write_text("RELAY_AMQP_URL=amqp://u:p@h/\n")
    image["Config"]["Env"] += ["RELAY_AMQP_URL=amqp://relay:s3cret@rabbitmq/", "API_TOKEN=x"]
    assert sorted(checks.content_problems(tmp_path, image)) == [
        "compiler /usr/bin/x86_64-linux-gnu-gcc-12",
        "secret file /app/.env",
        "secret file /app/config/tls.key",
        "secret in ENV API_TOKEN",
        "secret in ENV RELAY_AMQP_URL",
        "test dependency pytest",
    ]


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the Dockerfile no longer contains {old!r}: update the mutation"
    return text.replace(old, new)


HEALTHCHECK = TEXT[TEXT.index("HEALTHCHECK ") : TEXT.index("STOPSIGNAL")]
MUTANTS = {
    "root": _replace(TEXT, "USER 10001:10001\n", ""),
    "shell-cmd": _replace(TEXT, 'CMD ["relay", "serve"]', "CMD relay serve"),
    "no-healthcheck": _replace(TEXT, HEALTHCHECK, ""),
    "no-consumers": _replace(TEXT, "COPY consumers ./consumers\n", ""),
}


@pytest.fixture
def mutant(
    request: pytest.FixtureRequest, relay_image: dict[str, Any], tmp_path: Path
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The mutated Dockerfile built from the repository; (tag, inspect)."""
    name: str = request.param
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(MUTANTS[name], encoding="utf-8")
    tag = f"localhost/sinch-sms-relay:mutant-{name}"
    podman.build(tag, dockerfile, ROOT)
    try:
        yield tag, podman.inspect_image(tag)
    finally:
        podman.run("rmi", "-f", tag, check=False)


@pytest.mark.parametrize(
    ("mutant", "problem"),
    [("root", "runs as root"), ("shell-cmd", "shell-form CMD"), ("no-healthcheck", "HEALTHCHECK")],
    indirect=["mutant"],
)
def test_built_mutant_fails_the_config_check(
    mutant: tuple[str, dict[str, Any]], problem: str
) -> None:
    """The check the suite applies to the real image rejects each built mutant."""
    _, image = mutant
    assert any(problem in p for p in checks.config_problems(image)), checks.config_problems(image)


@pytest.mark.parametrize("mutant", ["root"], indirect=True)
def test_built_root_mutant_runs_as_uid_0(mutant: tuple[str, dict[str, Any]]) -> None:
    tag, _ = mutant
    assert podman.run("run", "--rm", tag, "id", "-u").stdout.strip() == "0"


@pytest.mark.parametrize("mutant", ["no-healthcheck"], indirect=True)
def test_built_mutant_without_healthcheck_has_nothing_to_run(
    mutant: tuple[str, dict[str, Any]],
) -> None:
    tag, _ = mutant
    name = podman.unique("ct-mutant")
    podman.run("create", "--name", name, tag)
    try:
        assert not podman.healthcheck(name)
    finally:
        podman.remove(name)


@pytest.mark.parametrize("mutant", ["no-consumers"], indirect=True)
async def test_built_mutant_without_consumers_fails_the_consumer_check(
    mutant: tuple[str, dict[str, Any]], amqp_url: str
) -> None:
    """The image builds, but `python -m consumers inbound` cannot start: reported."""
    tag, image = mutant
    assert checks.config_problems(image) == []
    problems = await probes.consumer_problems(tag, CONSUMER_COMMAND, amqp_url)
    assert problems
    assert "did not become healthy" in problems[0]
