"""A small PEP 508 environment-marker evaluator (``packaging.markers`` costs ~35 ms to import)."""

from __future__ import annotations

import os
import re
import sys
from typing import ClassVar

__all__ = ["marker_applies"]

_MARKERS: dict[str, bool] = {}  # marker text -> whether it holds here

_MARKER_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'[^']*'|"[^"]*")|(?P<op>===|==|!=|<=|>=|~=|<|>|\(|\))"""
    r"""|(?P<word>not\s+in\b|[A-Za-z_][A-Za-z0-9_.]*))"""
)
_MARKER_OPERATORS = {"===", "==", "!=", "<=", ">=", "~=", "<", ">", "in", "not in"}
_VERSION_VARIABLES = {"python_version", "python_full_version", "implementation_version"}


class _MarkerError(ValueError):
    """A marker this evaluator does not understand."""


def marker_applies(marker: str, notes: list[str]) -> bool:
    """Evaluate a PEP 508 environment marker here, with no extra requested (extras-only -> False)."""
    cached = _MARKERS.get(marker)
    if cached is None:
        try:
            cached = _MarkerParser(marker, _marker_environment()).evaluate()
        except _MarkerError as exc:
            notes.append(f"Could not evaluate the marker {marker!r} ({exc}); that dependency was not used for pruning.")
            cached = False
        _MARKERS[marker] = cached
    return cached


_ENVIRONMENT: dict[str, str] = {}


def _marker_environment() -> dict[str, str]:
    """The PEP 508 marker variables of this interpreter."""
    if not _ENVIRONMENT:
        import platform

        info = sys.implementation.version
        implementation_version = f"{info.major}.{info.minor}.{info.micro}"
        if info.releaselevel != "final":
            level = {"alpha": "a", "beta": "b", "candidate": "rc"}[info.releaselevel]
            implementation_version += f"{level}{info.serial}"
        _ENVIRONMENT.update(
            {
                "os_name": os.name,
                "sys_platform": sys.platform,
                "platform_machine": platform.machine(),
                "platform_python_implementation": platform.python_implementation(),
                "platform_release": platform.release(),
                "platform_system": platform.system(),
                "platform_version": platform.version(),
                "python_version": ".".join(map(str, sys.version_info[:2])),
                "python_full_version": platform.python_version(),
                "implementation_name": sys.implementation.name,
                "implementation_version": implementation_version,
                "extra": "",
            }
        )
    return _ENVIRONMENT


class _MarkerParser:
    """A small recursive-descent evaluator of PEP 508 markers: ``or``, ``and``, parentheses, comparisons."""

    _ALIASES: ClassVar[dict[str, str]] = {
        "os.name": "os_name",
        "sys.platform": "sys_platform",
        "platform.version": "platform_version",
        "platform.machine": "platform_machine",
        "platform.python_implementation": "platform_python_implementation",
        "python_implementation": "platform_python_implementation",
    }

    def __init__(self, text: str, environment: dict[str, str]) -> None:
        self.tokens = self._tokenize(text)
        self.position = 0
        self.environment = environment

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        """Split a marker into (kind, text) tokens."""
        tokens, position = [], 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _MARKER_TOKEN.match(text, position)
            if not match:
                raise _MarkerError(f"unexpected text at {text[position:]!r}")
            kind = match.lastgroup or ""
            value = match.group(kind)
            tokens.append((kind, " ".join(value.split()) if kind == "word" else value))
            position = match.end()
        return tokens

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise _MarkerError("marker ends early")
        self.position += 1
        return token

    def evaluate(self) -> bool:
        """The marker's value."""
        value = self._or()
        left = self._peek()
        if left is not None:
            raise _MarkerError(f"unexpected {left[1]!r}")
        return value

    def _or(self) -> bool:
        value = self._and()
        while self._peek() == ("word", "or"):
            self.position += 1
            value = self._and() or value
        return value

    def _and(self) -> bool:
        value = self._atom()
        while self._peek() == ("word", "and"):
            self.position += 1
            value = self._atom() and value
        return value

    def _atom(self) -> bool:
        if self._peek() == ("op", "("):
            self.position += 1
            value = self._or()
            if self._take() != ("op", ")"):
                raise _MarkerError("missing ')'")
            return value
        left, left_variable = self._value()
        kind, op = self._take()
        if op not in _MARKER_OPERATORS or kind == "str":
            raise _MarkerError(f"expected a comparison operator, got {op!r}")
        right, right_variable = self._value()
        version_like = left_variable in _VERSION_VARIABLES or right_variable in _VERSION_VARIABLES
        return _compare(left, op, right, version_like)

    def _value(self) -> tuple[str, str | None]:
        kind, text = self._take()
        if kind == "str":
            return text[1:-1], None
        if kind == "word":
            variable = self._ALIASES.get(text, text)
            if variable not in self.environment:
                raise _MarkerError(f"unknown variable {text!r}")
            return self.environment[variable], variable
        raise _MarkerError(f"expected a value, got {text!r}")


_VERSION = re.compile(
    r"^\s*v?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9.]+)?\s*$",
    re.IGNORECASE,
)


def _version_key(text: str) -> tuple | None:
    """A sortable key of a PEP 440 version (release, pre, post, dev), or None when not a version."""
    match = _VERSION.match(text)
    if not match:
        return None
    release = tuple(int(p) for p in match.group(1).split("."))
    release += (0,) * (8 - len(release))
    pre_kind, pre_number, post, dev = match.group(2), match.group(3), match.group(4), match.group(5)
    rank = {"a": 0, "alpha": 0, "b": 1, "beta": 1}.get((pre_kind or "").lower(), 2)
    pre = (rank, int(pre_number or 0)) if pre_kind else (3, 0)
    if dev is not None and not pre_kind and post is None:
        pre = (-1, 0)  # 1.0.dev1 sorts before 1.0a1
    return (
        release,
        pre,
        int(post) if post else -1 if post is None else 0,
        int(dev) if dev else (0 if dev is not None else float("inf")),
    )


def _compare(left: str, op: str, right: str, version_like: bool) -> bool:
    """One marker comparison, by PEP 440 when both sides are versions, else as strings."""
    if op in ("in", "not in"):
        return (left in right) == (op == "in")
    if op == "===":
        return left == right
    if op in ("==", "!=") and right.endswith(".*"):
        prefix = tuple(right[:-2].split("."))
        matches = tuple(left.split("."))[: len(prefix)] == prefix
        return matches == (op == "==")
    a, b = _version_key(left), _version_key(right)
    if a is None or b is None:
        if op in ("==", "!="):
            return (left == right) == (op == "==")
        if version_like:
            raise _MarkerError(f"cannot compare {left!r} {op} {right!r}")
        return False
    if op == "~=":
        parts = right.split(".")
        return a >= b and tuple(left.split("."))[: len(parts) - 1] == tuple(parts[:-1])
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
