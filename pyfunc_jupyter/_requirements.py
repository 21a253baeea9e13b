"""Requirement inference: record the imports of a sample inference, map them to pinned distributions.

Deviation from MLflow: a distribution whose module the model's own code imports is never pruned,
even when another requirement depends on it, and a failure is an error, not a silent fallback.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import os
import re
import sys
import sysconfig
import threading
from dataclasses import asdict, dataclass, field
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

from .errors import RequirementInferenceError

__all__ = ["ImportRecorder", "ModuleUse", "Requirement", "RequirementsResult", "resolve_requirements"]

_EXCLUDED = {"mlflow", "mlflow-skinny", "mlflow-tracing", "setuptools", "pip", "wheel", "pyfunc-jupyter"}
_OUR_PACKAGE = __name__.partition(".")[0]
_INDIRECT_IMPORTERS = {_OUR_PACKAGE, "cloudpickle", "importlib", "pickle", "copyreg"}
# Patching builtins.__import__ is process-wide: recorders in two threads must not interleave,
# or the later one would restore the earlier one's patch for good.
_PATCHING = threading.RLock()


@dataclass
class ModuleUse:
    """One top-level module seen during the sample inference, and how."""

    name: str
    how: str
    direct: bool


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    dirs |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    return tuple(os.path.realpath(d) + os.sep for d in dirs if d)


class ImportRecorder:
    """Record every absolute import run in this thread while active (also of loaded modules).

    An import is *direct* when the importing code is the model's own: ``__main__`` (a notebook or
    a by-value pickled function) or a file outside the standard library and site-packages.
    """

    def __init__(self) -> None:
        self.uses: list[ModuleUse] = []
        self.phase = "load"
        self._thread: int | None = None
        self._saved: tuple | None = None
        self._library = _library_dirs()
        self._file_cache: dict[str, bool] = {}

    def record(self, module: str, how: str, direct: bool = True) -> None:
        """Note a use of ``module`` (its top-level name is kept)."""
        top = module.partition(".")[0]
        if top and not top.startswith("_"):
            self.uses.append(ModuleUse(top, how, direct))

    def _is_model_code(self, importer: dict | None) -> bool:
        if not importer:  # __import__ called from C or by a reconstructor, not an import statement
            return False
        name = importer.get("__name__") or ""
        if name == "__main__":
            return True
        if name.partition(".")[0] in _INDIRECT_IMPORTERS:
            return False
        path = importer.get("__file__")
        if not path:
            return True
        known = self._file_cache.get(path)
        if known is None:
            known = self._file_cache[path] = not os.path.realpath(path).startswith(self._library)
        return known

    def _note(self, name: str, importer: dict | None) -> None:
        direct = self._is_model_code(importer)
        how = f"imported by {self.phase}" if direct else f"imported during {self.phase} by a library"
        self.record(name, how, direct)

    def __enter__(self) -> "ImportRecorder":
        _PATCHING.acquire()
        original_import, original_import_module = builtins.__import__, importlib.import_module
        self._saved = (original_import, original_import_module)
        self._thread = threading.get_ident()
        recorder = self

        def recording_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
            if level == 0 and threading.get_ident() == recorder._thread:
                recorder._note(name, globals)
            return original_import(name, globals, locals, fromlist, level)

        def recording_import_module(name, package=None):
            if not name.startswith(".") and threading.get_ident() == recorder._thread:
                recorder._note(name, sys._getframe(1).f_globals)
            return original_import_module(name, package)

        builtins.__import__ = recording_import
        importlib.import_module = recording_import_module
        return self

    def __exit__(self, *exc: Any) -> None:
        builtins.__import__, importlib.import_module = self._saved
        _PATCHING.release()


@dataclass
class Requirement:
    """A pinned distribution and why it is required."""

    name: str
    version: str
    modules: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    direct: bool = True

    @property
    def pin(self) -> str:
        """``name==version``."""
        return f"{self.name}=={self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (with the pin)."""
        return {**asdict(self), "pin": self.pin}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Requirement":
        """Read the JSON form back."""
        return cls(data["name"], data["version"], list(data.get("modules", [])), list(data.get("reasons", [])),
                   bool(data.get("direct", True)))


@dataclass
class RequirementsResult:
    """Inferred requirements, the non-installed modules the model uses, and notes."""

    requirements: list[Requirement]
    local_modules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def pins(self) -> list[str]:
        """The ``requirements.txt`` lines."""
        return [r.pin for r in self.requirements]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _DistIndex:
    """Which installed distribution provides a top-level module; built lazily, per site dir."""

    def __init__(self) -> None:
        self._by_module: dict[str, str | None] = {}
        self._dirs: dict[str, list[Path]] = {}
        self._scanned: set[str] = set()
        self._top: dict[str, dict[str, str]] = {}

    def _dist_infos(self, site: str) -> list[Path]:
        if site not in self._dirs:
            try:
                self._dirs[site] = sorted(p for p in Path(site).iterdir() if p.name.endswith(".dist-info"))
            except OSError:
                self._dirs[site] = []
        return self._dirs[site]

    @staticmethod
    def _provides(info: Path, module: str) -> bool:
        top = info / "top_level.txt"
        if top.is_file():
            return module in top.read_text(encoding="utf-8").split()
        record = info / "RECORD"
        if not record.is_file():
            return False
        prefixes = (f"{module}/", f"{module}.py,", f"{module}.")
        return any(line.startswith(prefixes) for line in record.read_text(encoding="utf-8").splitlines())

    @staticmethod
    def _dist_name(info: Path) -> str:
        meta = info / "METADATA"
        if meta.is_file():
            for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("Name:"):
                    return line.split(":", 1)[1].strip()
                if not line.strip():
                    break
        return info.name[: -len(".dist-info")].rsplit("-", 1)[0]

    @staticmethod
    def _site_of(module: str) -> str | None:
        loaded = sys.modules.get(module)
        path = getattr(loaded, "__file__", None)
        if path is None:
            locations = list(getattr(loaded, "__path__", []) or [])
            if not locations:
                spec = importlib.util.find_spec(module)
                if spec is None:
                    return None
                locations = list(spec.submodule_search_locations or []) or ([spec.origin] if spec.origin else [])
            if not locations:
                return None
            path = os.path.join(locations[0], "__init__.py")
        path = os.path.realpath(path)
        parent = os.path.dirname(path)
        return os.path.dirname(parent) if os.path.basename(path) == "__init__.py" else parent

    def distribution(self, module: str) -> str | None:
        """The distribution name that provides ``module``, or None."""
        if module in self._by_module:
            return self._by_module[module]
        try:
            site = self._site_of(module)
        except (ImportError, ValueError):
            site = None
        found = None
        if site:
            infos = self._dist_infos(site)
            guesses = [i for i in infos if _canonical(i.name.rsplit("-", 1)[0]) == _canonical(module)]
            for info in guesses + [i for i in infos if i not in guesses]:
                if self._provides(info, module):
                    found = self._dist_name(info)
                    break
        self._by_module[module] = found
        return found


_INDEX = _DistIndex()
_STDLIB = set(sys.stdlib_module_names) | set(sys.builtin_module_names)


def _requires(dist: str) -> set[str]:
    """Canonical names a distribution depends on (extras-only requirements left out)."""
    try:
        requires = _metadata.requires(dist) or []
    except _metadata.PackageNotFoundError:
        return set()
    names = set()
    for line in requires:
        if "extra ==" in line.replace('extra=="', 'extra == "'):
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if match:
            names.add(_canonical(match.group(1)))
    return names


def _closure(dist: str, cache: dict[str, set[str]]) -> set[str]:
    """Every canonical name ``dist`` depends on, transitively."""
    key = _canonical(dist)
    if key in cache:
        return cache[key]
    cache[key] = set()
    seen, todo = set(), [dist]
    while todo:
        for dep in _requires(todo.pop()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    cache[key] = seen
    return seen


def _version(dist: str, notes: list[str]) -> str:
    version = _metadata.version(dist)
    if "+" in version:
        public = version.split("+", 1)[0]
        notes.append(f"{dist} {version}: local version label dropped, pinned as {public}.")
        return public
    return version


def resolve_requirements(uses: list[ModuleUse], *, exclude: tuple[str, ...] = ()) -> RequirementsResult:
    """Map recorded module uses to pinned requirements with their provenance."""
    try:
        return _resolve(uses, {_canonical(e) for e in exclude} | _EXCLUDED)
    except RequirementInferenceError:
        raise
    except Exception as exc:  # noqa: BLE001 - broken metadata of any kind
        raise RequirementInferenceError(
            f"Could not infer the model's requirements ({type(exc).__name__}: {exc}). "
            "Pass pip_requirements=[...] explicitly.") from exc


def _resolve(uses: list[ModuleUse], excluded: set[str]) -> RequirementsResult:
    found: dict[str, Requirement] = {}
    local: list[str] = []
    notes: list[str] = []
    for use in uses:
        if use.name in _STDLIB or use.name == _OUR_PACKAGE or use.name == "__main__":
            continue
        dist = _INDEX.distribution(use.name)
        if dist is None:
            if use.direct and use.name not in local and use.name not in sys.builtin_module_names:
                local.append(use.name)
            continue
        if _canonical(dist) in excluded:
            continue
        requirement = found.setdefault(_canonical(dist), Requirement(dist, "", direct=False))
        requirement.direct = requirement.direct or use.direct
        if use.name not in requirement.modules:
            requirement.modules.append(use.name)
        reason = f"{use.name}: {use.how}"
        if reason not in requirement.reasons:
            requirement.reasons.append(reason)
    cache: dict[str, set[str]] = {}
    kept = []
    for key, requirement in found.items():
        if not requirement.direct and any(key in _closure(o.name, cache) for k, o in found.items() if k != key):
            continue
        requirement.version = _version(requirement.name, notes)
        kept.append(requirement)
    if "cloudpickle" not in found:
        kept.append(Requirement("cloudpickle", _version("cloudpickle", notes), ["cloudpickle"],
                                ["always included: the model is a cloudpickle pickle"], True))
    else:
        found["cloudpickle"].reasons.append("always included: the model is a cloudpickle pickle")
        if found["cloudpickle"] not in kept:
            found["cloudpickle"].version = _version("cloudpickle", notes)
            kept.append(found["cloudpickle"])
    kept.sort(key=lambda r: _canonical(r.name))
    return RequirementsResult(kept, sorted(local), notes)
