"""The one settings loader of the deployment: the relay's sections and the consumers' table.

A `Section` is a frozen dataclass bound to a TOML table and an environment prefix. For each
field the environment variable `<PREFIX>_<KEY>` wins over the table's `key`, which wins over
the default. msgspec does the coercion and the bounds (`Annotated[int, Meta(ge=1)]` on the
field); this module only splits comma lists, reads the common boolean spellings, refuses
unknown keys and names the key and the variable in every error.

Secrets are taken verbatim or refused, never parsed into something else (a secret split
at a comma, or a line dropped as a comment, would start a relay that answers 401 to every
genuine callback). Every `Secret` field `x` has a twin `x_file` (`<PREFIX>_<KEY>_FILE`)
naming a file that holds the value (container secrets): one secret per line, every
non-blank line whole (`#` included, no comments), its lines appended to a list; for one
secret, set one of the two. In a variable or a TOML string, a list of secrets is a JSON
array (`["new","old"]`) or one secret; a comma there is refused, since it could be either,
except in a list of URLs (`SecretUrls`, e.g. `amqp.urls`), which is comma-separated and
whose every item must be a URL. A secret that begins or ends with whitespace is refused.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from relay.config.secret import ConfigError, Secret

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

URL_LIST = Meta(extra={"urls": True})
SecretUrls = Annotated[tuple[Secret, ...], URL_LIST]
"""Broker addresses: secrets (they hold passwords), comma-separated, each one a URL."""


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    """A settings dataclass read from the TOML table `table` and the `<prefix>_*` variables."""

    table: str
    cls: type[Any]
    prefix: str

    def var(self, key: str) -> str:
        return f"{self.prefix}_{key}".upper()

    def key(self, name: str) -> str:
        return f"{self.table}.{name}"

    def names(self) -> Iterator[str]:
        """The settings' keys: the dataclass fields, less those marked `setting=False`."""
        for f in dataclasses.fields(self.cls):
            if f.metadata.get("setting", True):
                yield f.name

    def file_twins(self) -> Iterator[str]:
        """Secret fields without a declared `<name>_file` field get an implicit twin."""
        declared = set(self.names())
        for name, hint in typing.get_type_hints(self.cls).items():
            if is_secret(hint) and f"{name}_file" not in declared:
                yield name


def not_a_setting() -> dict[str, bool]:
    """Field metadata for an attribute the loader never reads (e.g. the worker kind)."""
    return {"setting": False}


def is_secret(hint: Any) -> bool:
    return hint is Secret or (
        typing.get_origin(hint) is tuple and typing.get_args(hint)[0] is Secret
    )


def read_toml(path: Path | None) -> dict[str, Any]:
    """The parsed file, or nothing for no path."""
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def reject_unknown(raw: Mapping[str, Any], known: set[str], prefix: str = "") -> None:
    for key in raw:
        if key not in known:
            raise ConfigError(f"unknown setting {prefix}{key}")


def given(section: Section, raw: Mapping[str, Any], env: Mapping[str, str], name: str) -> bool:
    """Whether `name` (or its `_file` twin) is set in the table or the environment."""
    return any(key in raw or section.var(key) in env for key in (name, f"{name}_file"))


def load_section(section: Section, raw: Any, env: Mapping[str, str], base: Any = None) -> Any:
    """The section's dataclass: `base` (or the defaults) overridden by `raw` and `env`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"setting {section.table} must be a table")
    twins = set(section.file_twins())
    reject_unknown(raw, {*section.names(), *(f"{n}_file" for n in twins)}, f"{section.table}.")
    hints = typing.get_type_hints(section.cls, include_extras=True)
    values = {
        name: convert(section, name, hints[name], value)
        for name in section.names()
        if (value := _lookup(section, raw, env, name)) is not None
    }
    _merge_secret_files(section, values, _twin_paths(section, raw, env, twins))
    if base is None:
        return section.cls(**values)
    return dataclasses.replace(base, **values)


def _lookup(section: Section, raw: Mapping[str, Any], env: Mapping[str, str], name: str) -> Any:
    var = section.var(name)
    return env[var] if var in env else raw.get(name)


def _twin_paths(
    section: Section, raw: Mapping[str, Any], env: Mapping[str, str], twins: set[str]
) -> dict[str, str]:
    paths = {f"{n}_file": _lookup(section, raw, env, f"{n}_file") for n in twins}
    for key, path in paths.items():
        if path is not None and not isinstance(path, str):
            raise ConfigError(f"invalid setting {section.key(key)} ({section.var(key)}): "
                              "expected a path")  # fmt: skip
    return {key: path for key, path in paths.items() if path}


def convert(section: Section, name: str, hint: Any, value: Any) -> Any:
    """`value` (TOML or an env string) as `hint`, or a one-line error naming key and variable."""
    try:
        return msgspec.convert(_prepare(hint, value), hint, strict=False, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        detail = str(exc).split(" - at `")[0]
        raise ConfigError(
            f"invalid setting {section.key(name)} ({section.var(name)}): "
            f"{detail}{_shown(hint, value)}"
        ) from None


def _prepare(hint: Any, value: Any) -> Any:
    """What msgspec does not do itself: comma lists and on/off, yes/no booleans."""
    bare = _bare(hint)
    if is_secret(bare) and bare is not Secret and isinstance(value, str):
        return _secret_list(value, URL_LIST in _metas(hint))
    if typing.get_origin(bare) is tuple and isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if bare is bool and isinstance(value, str):
        text = value.strip().lower()
        return True if text in _TRUE else False if text in _FALSE else value
    if bare in (int, float) and isinstance(value, str):
        return value.strip()
    return value


def _secret_list(text: str, urls: bool) -> list[Any]:
    """A JSON array of secrets, one secret, or (for URLs only) a comma-separated list."""
    if not text:
        return []  # set but empty, as a compose file's `RELAY_SECURITY_HMAC_SECRETS=`: none
    if text.lstrip().startswith("["):
        try:
            return msgspec.json.decode(text, type=list[Any])
        except msgspec.DecodeError:
            raise msgspec.ValidationError("not a JSON array of strings") from None
    if not urls:
        if "," in text:
            raise msgspec.ValidationError(
                "holds a comma: secrets are taken verbatim, so give several as a JSON array "
                '(["new","old"]) or one per line in its _file twin'
            )
        return [text]
    items = [item.strip() for item in text.split(",") if item.strip()]
    for number, item in enumerate(items, 1):
        if "://" not in item:
            raise msgspec.ValidationError(
                f"item {number} is not a URL (a comma inside a URL: write it as %2C)"
            )
    return items


def _metas(hint: Any) -> tuple[Any, ...]:
    return typing.get_args(hint)[1:] if typing.get_origin(hint) is typing.Annotated else ()


def _bare(hint: Any) -> Any:
    return typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint


def _shown(hint: Any, value: Any) -> str:
    """The offending value, unless it is a secret; a Literal's choices."""
    bare = _bare(hint)
    if is_secret(bare):
        return ""
    if typing.get_origin(bare) is Literal:
        return f" (expected one of {', '.join(map(str, typing.get_args(bare)))})"
    return f" (value {value!r})"


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is Secret:
        if not isinstance(value, str) or not value:
            raise ValueError("expected a non-empty string")
        if value != value.strip():
            raise ValueError("begins or ends with whitespace (secrets are taken verbatim)")
        return Secret(value)
    raise NotImplementedError(kind)


def _merge_secret_files(section: Section, values: dict[str, Any], twins: dict[str, str]) -> None:
    """Each `<name>_file` adds to the secret list `<name>`, or is the one secret `<name>`."""
    hints = typing.get_type_hints(section.cls)
    for name in section.names():
        path = values.get(f"{name}_file") or twins.get(f"{name}_file")
        if not path or not is_secret(hints[name]):
            continue
        lines = _read_secret_lines(section.key(name), path)
        if hints[name] is Secret:
            values[name] = _one_secret(section, name, values, lines)
        else:
            values[name] = (*values.get(name, ()), *lines)


def _one_secret(
    section: Section, name: str, values: Mapping[str, Any], lines: tuple[Secret, ...]
) -> Secret:
    if name in values:
        raise ConfigError(f"setting {section.key(name)}: set {section.var(name)} "
                          f"or {section.var(name + '_file')}, not both")  # fmt: skip
    if len(lines) != 1:
        raise ConfigError(f"setting {section.key(name)}_file: expected one value, "
                          f"got {len(lines)} lines")  # fmt: skip
    return lines[0]


def _read_secret_lines(key: str, path: str) -> tuple[Secret, ...]:
    """One secret per non-blank line, whole: `#` is part of it, only the line end goes."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {key}_file {path}: {exc.strerror}") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    for number, line in enumerate(lines, 1):
        if line.strip() and line != line.strip():
            raise ConfigError(f"setting {key}_file: line {number} of {path} begins or ends "
                              "with whitespace (secrets are taken verbatim)")  # fmt: skip
    return tuple(Secret(line) for line in lines if line.strip())


def load_named(
    table: str, cls: type[Any], prefix: str, raw: Any, env: Mapping[str, str]
) -> dict[str, Any]:
    """Each `[<table>.<name>]` of `raw` as `cls`, overridden by `<prefix>_<NAME>_<KEY>`
    (a `-` in the name is a `_` in the variable), with `_file` twins as for any section.

    A `<prefix>_*` variable that names no such table and key is an error: a typo, or an
    account only the environment knows, must not go unnoticed (its secrets unused).
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"setting {table} must be a table")
    sections = {
        name: Section(f"{table}.{name}", cls, f"{prefix}_{name.replace('-', '_')}") for name in raw
    }
    _reject_stray_variables(prefix, table, sections.values(), env)
    return {name: load_section(section, raw[name], env) for name, section in sections.items()}


def _reject_stray_variables(
    prefix: str, table: str, sections: Iterable[Section], env: Mapping[str, str]
) -> None:
    known = {
        section.var(key)
        for section in sections
        for key in (*section.names(), *(f"{n}_file" for n in section.file_twins()))
    }
    for var in env:
        if var.startswith(f"{prefix}_") and var not in known:
            raise ConfigError(
                f"{var} matches no setting of a configured [{table}.<name>] table "
                f"(declare the table in the config file; keys are those of {table}.<name>)"
            )
