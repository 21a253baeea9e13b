"""Installed distributions: which one provides a module, its metadata and dependencies."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable

from ..errors import RequirementInferenceError
from .markers import marker_applies

__all__ = [
    "DistMeta",
    "module_owners",
    "dist_metadata",
    "dependencies",
    "dependency_closure",
    "canonical_name",
    "installed_info",
    "refresh_if_sys_path_changed",
]

_FIX = "pass pip_requirements=[...] explicitly to save without inference"


_NAME_SEPARATORS = re.compile(r"[-_.]+")


def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return _NAME_SEPARATORS.sub("-", name).lower()


class _Site:
    """The distribution metadata directories of one sys.path directory (valid for one mtime)."""

    __slots__ = ("declared", "editables", "infos", "mtime", "undeclared")

    def __init__(self, mtime: int, infos: dict[str, list[str]]) -> None:
        self.mtime = mtime
        self.infos = infos  # canonical name -> .dist-info / .egg-info paths
        self.declared: dict[str, list[str]] | None = None  # top_level.txt name -> metadata paths, on demand
        self.undeclared: list[str] = []  # metadata paths without a top_level.txt (RECORD only)
        self.editables: list[tuple[str, set[str], set[str]]] | None = None  # (info, top levels, .pth dirs)


_SITES: dict[str, _Site] = {}
_OWNERS: dict[tuple[str, str], tuple[str, ...]] = {}
_METADATA: dict[str, tuple[int, DistMeta]] = {}
_SYS_PATH: list[tuple[str, ...]] = [()]


def refresh_if_sys_path_changed() -> None:
    """Forget module owners when sys.path changed (site listings revalidate by mtime themselves)."""
    current = tuple(sys.path)
    if current != _SYS_PATH[0]:
        _OWNERS.clear()
        _SYS_PATH[0] = current


def _site(directory: str) -> _Site:
    """The metadata directories in ``directory``, cached until its mtime changes."""
    try:
        mtime = os.stat(directory).st_mtime_ns
    except OSError:
        return _Site(-1, {})
    cached = _SITES.get(directory)
    if cached is not None and cached.mtime == mtime:
        return cached
    infos: dict[str, list[str]] = {}
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        entries = []
    for entry in entries:
        if entry.endswith(".dist-info") or (
            entry.endswith(".egg-info") and os.path.isdir(os.path.join(directory, entry))
        ):
            name = entry.rpartition(".")[0].partition("-")[0]
            infos.setdefault(canonical_name(name), []).append(os.path.join(directory, entry))
    site = _SITES[directory] = _Site(mtime, infos)
    return site


def _read(path: str) -> str | None:
    """A small text file's content, or None if it is missing."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _owns(info: str, prefix: str, top: str | None) -> bool:
    """Whether the distribution at ``info`` installed the file or package ``prefix`` (RECORD form)."""
    if top is not None:
        declared = _read(os.path.join(info, "top_level.txt"))
        if declared is not None and top in declared.split():
            return True
    record = _read(os.path.join(info, "RECORD"))
    if record is None:
        return False
    return record.startswith(prefix) or f"\n{prefix}" in record


def _declared(site: _Site) -> dict[str, list[str]]:
    """Top-level name -> metadata directories whose top_level.txt declares it, for a whole site directory."""
    if site.declared is None:
        declared: dict[str, list[str]] = {}
        for paths in site.infos.values():
            for info in paths:
                text = _read(os.path.join(info, "top_level.txt"))
                if text is None:
                    site.undeclared.append(info)
                for top in set((text or "").split()):
                    declared.setdefault(top, []).append(info)
        site.declared = declared
    return site.declared


def _scan_site(site: _Site, where: _Where, top: str | None) -> tuple[str, ...]:
    """The slow path: top_level.txt declarations, then RECORDs (likeliest first) until one lists the module."""
    if top is not None:
        declared = _declared(site).get(top)
        if declared:
            return tuple(declared)
        candidates = sorted(site.undeclared, key=lambda info: os.path.basename(info)[0].lower() != top[0].lower())
    else:
        candidates = [info for paths in site.infos.values() for info in paths]
    owners = []
    for info in candidates:
        if _owns(info, where.prefix, None):
            owners.append(info)
            if top is not None:  # a module file has one owner; a namespace directory may have many
                break
    return tuple(owners)


def _site_editables(site: _Site) -> list[tuple[str, set[str], set[str]]]:
    """Editable installs recorded in a site directory: (info, declared top levels, .pth directories)."""
    if site.editables is None:
        import json

        editables = []
        for paths in site.infos.values():
            for info in paths:
                raw = _read(os.path.join(info, "direct_url.json"))
                try:
                    editable = bool(raw and json.loads(raw).get("dir_info", {}).get("editable"))
                except (ValueError, AttributeError):
                    editable = False
                if not editable:
                    continue
                tops = set((_read(os.path.join(info, "top_level.txt")) or "").split())
                dirs = set()
                for line in (_read(os.path.join(info, "RECORD")) or "").splitlines():
                    path = line.rsplit(",", 2)[0].strip('"')
                    if path.endswith(".pth") and "/" not in path:
                        for entry in (_read(os.path.join(os.path.dirname(info), path)) or "").splitlines():
                            if entry.strip() and not entry.startswith(("#", "import")):
                                dirs.add(os.path.normpath(entry.strip()))
                editables.append((info, tops, dirs))
        site.editables = editables
    return site.editables


class _Where:
    """Where a module lives: its sys.path root and its path as RECORD lists it (or namespace paths)."""

    __slots__ = ("namespace", "prefix", "root")

    def __init__(self, root: str = "", prefix: str = "", namespace: tuple[str, ...] = ()) -> None:
        self.root, self.prefix, self.namespace = root, prefix, namespace


def _where(dotted: str) -> _Where | None:
    """Locate an importable module without importing it (None: not found, or has no file)."""
    module = sys.modules.get(dotted)
    file = getattr(module, "__file__", None) if module is not None else None
    paths = list(getattr(module, "__path__", None) or []) if module is not None else []
    if module is None:
        import importlib.util

        try:
            spec = importlib.util.find_spec(dotted)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        file = spec.origin if spec.has_location else None
        paths = list(spec.submodule_search_locations or [])
    parts = dotted.split(".")
    if not isinstance(file, str):
        return _Where(namespace=tuple(str(p) for p in paths)) if paths else None
    file = os.path.abspath(file)
    base, directory = os.path.basename(file), os.path.dirname(file)
    if base.startswith("__init__."):
        return _Where(_up(directory, len(parts)), "/".join(parts) + "/")
    return _Where(_up(directory, len(parts) - 1), "/".join([*parts[:-1], base]) + ",")


def _up(directory: str, levels: int) -> str:
    """``directory`` with ``levels`` trailing components removed."""
    for _ in range(levels):
        directory = os.path.dirname(directory)
    return directory


def _guesses(site: _Site, key: str) -> list[str]:
    """Metadata directories named like module ``key`` (yaml -> PyYAML, pythonjsonlogger -> python-json-logger)."""
    exact = [p for name in (key, f"py{key}", f"python-{key}", f"{key}-python") for p in site.infos.get(name, [])]
    bare = key.replace("-", "")
    similar = [
        p
        for name, paths in site.infos.items()
        for p in paths
        if p not in exact
        and (name.replace("-", "") in (bare, f"py{bare}", f"python{bare}") or (len(bare) >= 3 and bare in name))
    ]
    return exact + similar[:12]


def _owners_at(where: _Where, top: str | None, key: str) -> tuple[str, ...]:
    """Metadata directories of the distribution that installed the module at ``where``."""
    cache_key = (where.root, where.prefix)
    cached = _OWNERS.get(cache_key)
    if cached and all(os.path.isdir(info) for info in cached):
        return cached
    site = _site(where.root)
    found: tuple[str, ...] = ()
    for info in _guesses(site, key):
        if _owns(info, where.prefix, top):
            found = (info,)
            break
    if not found and site.infos:
        found = _scan_site(site, where, top)
    if not found and top is not None:
        found = _editable_owner(where, top)
    if found:
        _OWNERS[cache_key] = found
    return found


def _editable_owner(where: _Where, top: str) -> tuple[str, ...]:
    """The editable install (PEP 660 or a .pth entry) that provides ``top`` from its source tree."""
    root = os.path.normpath(where.root)
    for entry in sys.path:
        for info, tops, dirs in _site_editables(_site(entry or os.getcwd())):
            name = os.path.basename(info).rpartition(".")[0].partition("-")[0]
            if top in tops or (root in dirs and canonical_name(name) == canonical_name(top)):
                return (info,)
    return ()


def module_owners(top: str, submodules: Iterable[str], notes: list[str]) -> tuple[str, ...]:
    """Metadata directories of the distributions that provide top-level module ``top``."""
    where = _where(top)
    if where is None:
        return ()
    if not where.namespace:
        return _owners_at(where, top, canonical_name(top))
    found: list[str] = []
    for dotted in submodules:
        sub = _where(dotted)
        if sub is not None and not sub.namespace:
            found += [i for i in _owners_at(sub, None, canonical_name(dotted.partition(".")[2])) if i not in found]
    if found:
        return tuple(found)
    for path in where.namespace:  # no submodule seen: every distribution installing into it, as MLflow does
        found += [i for i in _scan_site(_site(os.path.dirname(path)), _Where(prefix=f"{top}/"), None) if i not in found]
    if found:
        notes.append(
            f"{top} is a namespace package and none of its submodules was seen: every installed "
            f"distribution that provides {top}.* is required."
        )
    return tuple(found)


class DistMeta:
    """The fields of a distribution's METADATA that inference needs."""

    __slots__ = ("dependencies", "name", "requires", "version")

    def __init__(self, name: str, version: str, requires: list[str]) -> None:
        self.name, self.version, self.requires = name, version, requires
        self.dependencies: frozenset[str] | None = None  # filled in by dependencies


def dist_metadata(info: str) -> DistMeta:
    """Name, version and Requires-Dist of the distribution at ``info`` (cached by mtime)."""
    egg = info.endswith(".egg-info")
    path = os.path.join(info, "PKG-INFO" if egg else "METADATA")
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise _broken(info, f"{os.path.basename(path)} is missing ({exc.strerror})") from exc
    cached = _METADATA.get(info)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    fields: dict[str, str] = {}
    requires: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line in ("\n", "\r\n"):  # the end of the headers (folded lines start with whitespace)
                break
            key, colon, value = line.partition(":")
            if not colon or line[0] in " \t":
                continue
            if key == "Requires-Dist":
                requires.append(value.strip())
            elif key in ("Name", "Version"):
                fields.setdefault(key, value.strip())
    if not fields.get("Name") or not fields.get("Version"):
        missing = " and ".join(k for k in ("Name", "Version") if not fields.get(k))
        raise _broken(info, f"its METADATA has no {missing}")
    if egg:
        requires = _egg_requires(_read(os.path.join(info, "requires.txt")) or "")
    meta = DistMeta(fields["Name"], fields["Version"], requires)
    _METADATA[info] = (mtime, meta)
    return meta


def _egg_requires(text: str) -> list[str]:
    """An egg-info requires.txt in Requires-Dist form (``[:marker]`` sections kept, extras marked)."""
    requires, marker = [], ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            extra, _, condition = line[1:-1].partition(":")
            parts = ([f'extra == "{extra}"'] if extra else []) + ([f"({condition})"] if condition else [])
            marker = " and ".join(parts)
        elif line and not line.startswith("#"):
            requires.append(f"{line}; {marker}" if marker else line)
    return requires


def _broken(info: str, problem: str) -> RequirementInferenceError:
    """The error for unreadable distribution metadata."""
    name = os.path.basename(info).rpartition(".")[0].partition("-")[0]
    return RequirementInferenceError(
        f"Cannot infer requirements: the installed metadata of {name!r} ({info}) is broken: {problem}. "
        f"Reinstall it (pip install --force-reinstall {name}), or {_FIX}."
    )


# --------------------------------------------------------------------------------------------
# Dependencies, PEP 508 markers
# --------------------------------------------------------------------------------------------

_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def installed_info(canonical: str) -> str | None:
    """The metadata directory of an installed distribution, first on sys.path wins."""
    for entry in sys.path:
        paths = _site(entry or os.getcwd()).infos.get(canonical)
        if paths:
            return paths[0]
    return None


def dependencies(info: str, notes: list[str]) -> frozenset[str]:
    """Canonical names of the distributions ``info`` requires here (extras-only and false markers left out)."""
    meta = dist_metadata(info)
    if meta.dependencies is not None:
        return meta.dependencies
    names = set()
    for requirement in meta.requires:
        body, _, marker = requirement.partition(";")
        match = _REQUIREMENT_NAME.match(body)
        if match and (not marker.strip() or marker_applies(marker.strip(), notes)):
            names.add(canonical_name(match.group(1)))
    meta.dependencies = frozenset(names)
    return meta.dependencies


def dependency_closure(info: str, notes: list[str]) -> set[str]:
    """Canonical names of everything ``info`` requires, transitively, as installed here."""
    seen: set[str] = set()
    todo = [info]
    while todo:
        for name in dependencies(todo.pop(), notes):
            if name not in seen:
                seen.add(name)
                dependency = installed_info(name)
                if dependency is not None:
                    todo.append(dependency)
    return seen
