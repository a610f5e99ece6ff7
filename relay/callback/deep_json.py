"""A JSON parser without recursion, for the valid bodies the stack-bound parsers refuse.

orjson stops at 1024 levels of nesting and stdlib `json` at Python's recursion limit, but
JSON itself sets no depth limit: a callback nested deeper is still valid, with a string
`type`, and answering it 400 would lose it for good. This parser keeps the document down
to `MAX_KEPT_DEPTH` and stands in `TOO_DEEP` for any container below that, after skipping
it in runs of brackets (cheap even for a megabyte of `[`). It runs only after both fast
parsers failed, or for a body of more than `MAX_CONTAINERS` arrays and objects, so its
Python-level speed costs nothing on the normal path.

Why the container count: a parser that builds the whole document turns each `[]` (two
bytes) into a list object (~72 bytes), so 1 MiB of arrays nested 1000 deep (within
orjson's limit) became 44 MiB of lists for one request. Freed at once, that memory did
not go back to the system: a few objects allocated meanwhile keep CPython's 1 MiB arenas
alive, and RSS stayed ~13% above its start after an attack run. Genuine callbacks carry
a handful of containers (a delivery report batch one object and one list per status),
so such a body keeps only its top level (`loads(text, keep_depth=1)`) and goes unrouted.
"""

from __future__ import annotations

import json.decoder
import re
from collections.abc import Callable
from typing import Any, Final

# The C string scanner behind stdlib json (typeshed does not declare it).
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
MAX_KEPT_DEPTH: Final = 32
MAX_INT_DIGITS: Final = 4300  # Python's int/str conversion limit: longer stays a float
MAX_CONTAINERS: Final = 10_000  # arrays and objects a body may hold and still be parsed whole


class _TooDeep:
    """A container below `MAX_KEPT_DEPTH`: valid JSON, of no kind a field check accepts."""

    def __repr__(self) -> str:
        return "TOO_DEEP"


TOO_DEEP: Final = _TooDeep()

_TOKEN = re.compile(
    r"[ \t\n\r]*(?:([\[\]{}:,])|(\")|(-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)"
    r"|(true|false|null))"
)
# A string; a run of closers; or a stretch of openers, scalars and flat containers
# (`[1,[2],{}`): each closer in it closes a flat container opened in it, so the depth
# never falls inside a stretch, and its brackets are counted in C, not token by token.
_SKIP = re.compile(
    r'"(?:[^"\\]|\\.)*"|[\]}]+|(?:[\[{][^"\[\]{}]*[\]}]|[\[{]+|[^"\[\]{}]+)++', re.DOTALL
)
_LITERALS: Final = {"true": True, "false": False, "null": None}
_TRAILING = re.compile(r"[ \t\n\r]*")
# A string, or what is left of one at the end (a lone `\` included): every search that
# starts at a quote succeeds, so removing strings stays linear even in broken input.
_STRING_BYTES = re.compile(rb'"(?:[^"\\]|\\.?)*+(?:"|\Z)', re.DOTALL)
_CLOSE = {"]": list, "}": dict}


def int_or_float(digits: str) -> int | float:
    """A JSON integer: exact when Python can convert it, else the nearest float."""
    return int(digits) if len(digits) <= MAX_INT_DIGITS else float(digits)


def too_many_containers(body: bytes) -> bool:
    """Whether `body` holds more than `MAX_CONTAINERS` arrays and objects (outside strings).

    A length test for every body; counting only for the large ones (two bytes each at
    least), and stripping strings only when brackets inside them could tip the count.
    """
    if len(body) <= 2 * MAX_CONTAINERS:
        return False
    if body.count(b"[") + body.count(b"{") <= MAX_CONTAINERS:
        return False
    bare = _STRING_BYTES.sub(b"", body)
    return bare.count(b"[") + bare.count(b"{") > MAX_CONTAINERS


def loads(text: str, keep_depth: int = MAX_KEPT_DEPTH) -> tuple[Any, bool]:
    """The document in `text`, and whether a part was too deep to keep; `ValueError` if it
    is not JSON. Containers below `keep_depth` levels are skipped (`TOO_DEEP`)."""
    parser = _Parser(text, keep_depth)
    return parser.run(), parser.truncated


_VALUE, _VALUE_OR_CLOSE, _KEY, _KEY_OR_CLOSE, _NEXT = range(5)
_MORE: Final = object()  # the state machine needs another token for this value


class _Parser:
    """A push-down automaton over tokens: the stack is a list, never Python frames."""

    def __init__(self, text: str, keep_depth: int) -> None:
        self.text = text
        self.keep_depth = keep_depth
        self.pos = 0
        self.stack: list[list[Any] | dict[str, Any]] = []
        self.keys: list[str] = []  # the pending key of each open object
        self.state = _VALUE
        self.truncated = False

    def run(self) -> Any:
        while True:
            value = self.step(*self.token())
            if value is _MORE:
                continue
            if not self.stack:
                self.end()
                return value
            self.put(value)

    def step(self, kind: str, item: Any) -> Any:
        """One token in the current state: a complete value, or `_MORE`."""
        state, close = self.state, kind == "p" and item in _CLOSE
        if state in (_VALUE, _VALUE_OR_CLOSE) and not (close and state == _VALUE_OR_CLOSE):
            return item if kind == "v" else self.open(item)
        if state in (_KEY, _KEY_OR_CLOSE) and not (close and state == _KEY_OR_CLOSE):
            return self.key(kind, item)
        if state == _NEXT and (kind, item) == ("p", ","):
            self.state = _KEY if isinstance(self.stack[-1], dict) else _VALUE
            return _MORE
        if close and self.stack and isinstance(self.stack[-1], _CLOSE[item]):
            return self.stack.pop()
        raise ValueError(f"unexpected {item!r} at {self.pos}")

    def open(self, bracket: str) -> Any:
        if bracket not in "[{":
            raise ValueError(f"unexpected {bracket!r} at {self.pos}")
        if len(self.stack) >= self.keep_depth:
            self.skip()
            self.truncated = True
            return TOO_DEEP
        self.stack.append([] if bracket == "[" else {})
        self.state = _VALUE_OR_CLOSE if bracket == "[" else _KEY_OR_CLOSE
        return _MORE

    def key(self, kind: str, item: Any) -> Any:
        if kind != "v" or not isinstance(item, str) or self.token() != ("p", ":"):
            raise ValueError(f"bad object member at {self.pos}")
        self.keys.append(item)
        self.state = _VALUE
        return _MORE

    def put(self, value: Any) -> None:
        top = self.stack[-1]
        if isinstance(top, dict):
            top[self.keys.pop()] = value
        else:
            top.append(value)
        self.state = _NEXT

    def token(self) -> tuple[str, Any]:
        """The next token: ("p", punctuation) or ("v", a scalar value)."""
        m = _TOKEN.match(self.text, self.pos)
        if m is None:
            raise ValueError(f"unexpected input at {self.pos}")
        self.pos = m.end()
        punct, quote, number, fraction, exponent, literal = m.groups()
        if punct:
            return "p", punct
        if quote:
            value, self.pos = _scanstring(self.text, self.pos, True)
            return "v", value
        if number:
            return "v", float(number) if fraction or exponent else int_or_float(number)
        return "v", _LITERALS[literal]

    def end(self) -> None:
        trailing = _TRAILING.match(self.text, self.pos)
        if trailing is None or trailing.end() != len(self.text):
            raise ValueError("data after the document")

    def skip(self) -> None:
        """Step over the container just opened, counting brackets in runs, not one by one.

        Below `keep_depth` only strings and bracket balance are checked: what is kept
        never depends on it, and such a body is quarantined, never routed.
        """
        depth = 1
        while depth > 0:
            m = _SKIP.match(self.text, self.pos)
            if m is None:
                raise ValueError("unterminated container")
            self.pos, run = m.end(), m.group()
            if run[0] in "]}":
                depth -= len(run)
            elif run[0] != '"':
                depth += _balance(run)
        self.pos += depth  # a run of closers may also close containers above this one


def _balance(stretch: str) -> int:
    """Openers minus closers in a stretch without strings."""
    opened = stretch.count("[") + stretch.count("{")
    return opened - stretch.count("]") - stretch.count("}")
