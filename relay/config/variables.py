"""Environment variables that look like settings but name none: a typo, said once.

A typo in the TOML file stops start-up (`unknown setting ...`); the same typo in a variable
used to be ignored in silence. Variables are not refused, since the environment is shared
with other software, but each unknown `RELAY_*` / `CONSUMER_*` name gets one warning naming
the closest known one (difflib). The known names are derived from the settings sections
(every `<PREFIX>_<KEY>` and `_FILE` twin), plus the project's own variables that are not
settings: those below, and whatever a caller passes in.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Iterator, Mapping

import structlog

from relay.config.loader import Section

PREFIXES = ("RELAY_", "CONSUMER_")
"""Variables under these prefixes are expected to name a setting (or one of the below)."""

NOT_SETTINGS = frozenset({"RELAY_CONFIG", "CONSUMER_CONFIG"})
"""Read by the entry points (which TOML file), not by the loader."""

NOT_SETTING_PREFIXES = (
    "RELAY_TEST_",  # the test suites' service URLs (docs/testing.md)
    "RELAY_RUN_",  # scripts/run-stack and scripts/private-broker
    "RELAY_FUZZ_",  # tests/security: fuzz budgets
    "RELAY_FAULTS_",  # tests/faults: the figures table
    "RELAY_SIMULATE_",  # `relay simulate`: the HMAC secret
    "RELAY_ACCOUNT_",  # per-account settings, RELAY_ACCOUNT_<NAME>_<KEY>
)


@dataclasses.dataclass(frozen=True, slots=True)
class Unknown:
    """A variable no setting reads, and the known name it most resembles (if any)."""

    variable: str
    closest: str | None


def known_names(sections: Iterable[Section]) -> frozenset[str]:
    """Every variable the loader reads for `sections`, `_FILE` twins included."""
    names: set[str] = set(NOT_SETTINGS)
    for section in sections:
        names.update(section.var(name) for name in section.names())
        names.update(section.var(f"{name}_file") for name in section.file_twins())
    return frozenset(names)


def unknown_variables(
    env: Mapping[str, str],
    sections: Iterable[Section],
    also_known: Iterable[str] = (),
    known_prefixes: Iterable[str] = (),
) -> Iterator[Unknown]:
    """The `RELAY_*` / `CONSUMER_*` variables of `env` that name nothing, in sorted order."""
    known = known_names(sections) | frozenset(also_known)
    skipped = (*NOT_SETTING_PREFIXES, *known_prefixes)
    for variable in sorted(env):
        if not variable.startswith(PREFIXES) or variable in known:
            continue
        if variable.startswith(skipped):
            continue
        closest = difflib.get_close_matches(variable, known, n=1, cutoff=0.6)
        yield Unknown(variable, closest[0] if closest else None)


def warn_unknown_variables(env: Mapping[str, str], sections: Iterable[Section]) -> int:
    """Log one `config.unknown_variable` warning per unknown variable; how many there were."""
    log = structlog.get_logger("relay.config")
    found = list(unknown_variables(env, sections))
    for unknown in found:
        log.warning(
            "config.unknown_variable",
            variable=unknown.variable,
            closest=unknown.closest,
        )
    return len(found)
