"""`Secret`: a setting that holds a password or key, and `ConfigError`, the loader's one error."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the key and its variable."""


class Secret:
    """A string that never shows itself in `repr`, `str` or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
