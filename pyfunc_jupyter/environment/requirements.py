"""Requirement inference: pin the distributions behind a sample inference's imports, with provenance.

Deviation from MLflow: a distribution whose module the model's own code imports is never pruned,
and a failure is an error, not a silent fallback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import RequirementInferenceError
from .distributions import (
    DistMeta,
    canonical_name,
    dependency_closure,
    dist_metadata,
    module_owners,
    refresh_if_sys_path_changed,
)
from .imports import ImportRecorder, ModuleUse

__all__ = ["ImportRecorder", "ModuleUse", "Requirement", "RequirementsResult", "resolve_requirements"]

_OUR_PACKAGE = __name__.partition(".")[0]
_MLFLOW = frozenset({"mlflow", "mlflow-skinny", "mlflow-tracing"})
_NEVER_REQUIRED = _MLFLOW | {"setuptools", "pip", "wheel", "pyfunc-jupyter"}
_STDLIB = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)
_CLOUDPICKLE_REASON = "always included: the model is a cloudpickle pickle"
_FIX = "pass pip_requirements=[...] explicitly to save without inference"


@dataclass
class Requirement:
    """A pinned distribution and why the model needs it."""

    name: str
    version: str
    modules: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    direct: bool = True

    @property
    def pin(self) -> str:
        """The ``requirements.txt`` line, ``name==version``."""
        return f"{self.name}=={self.version}"

    def to_dict(self) -> dict[str, Any]:
        """The sidecar JSON form (with the pin)."""
        return {
            "name": self.name,
            "version": self.version,
            "pin": self.pin,
            "modules": list(self.modules),
            "reasons": list(self.reasons),
            "direct": self.direct,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Requirement:
        """Read the sidecar JSON form back."""
        return cls(
            str(data["name"]),
            str(data["version"]),
            list(data.get("modules", [])),
            list(data.get("reasons", [])),
            bool(data.get("direct", True)),
        )


@dataclass
class RequirementsResult:
    """Inferred requirements, the model's modules no installed distribution provides, and notes."""

    requirements: list[Requirement]
    local_modules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def pins(self) -> list[str]:
        """The ``requirements.txt`` lines, sorted by normalised name."""
        return [r.pin for r in self.requirements]


class _Found:
    """A distribution some recorded modules map to, while resolving."""

    __slots__ = ("direct", "info", "meta", "modules", "reasons")

    def __init__(self, info: str, meta: DistMeta, modules: list[str] | None = None, direct: bool = False) -> None:
        self.info, self.meta, self.modules, self.direct = info, meta, modules or [], direct
        self.reasons: list[str] = []


def resolve_requirements(
    uses: Iterable[ModuleUse], *, exclude: Iterable[str] = (), pickled: bool = True
) -> RequirementsResult:
    """Map recorded uses to pinned requirements with provenance; direct uses are never pruned.

    ``pickled=False`` (a model from code) does not add cloudpickle for the pickle's sake.
    """
    try:
        return _resolve(list(uses), {canonical_name(name) for name in exclude}, pickled)
    except RequirementInferenceError:
        raise
    except Exception as exc:
        raise RequirementInferenceError(
            f"Cannot infer requirements ({type(exc).__name__}: {exc}). Fix the installed packages, or {_FIX}."
        ) from exc


def _resolve(uses: list[ModuleUse], exclude: set[str], pickled: bool = True) -> RequirementsResult:
    """The body of ``resolve_requirements``."""
    refresh_if_sys_path_changed()
    notes: list[str] = []
    found, local, unowned = _map_uses(uses, notes)
    never = _NEVER_REQUIRED | exclude
    candidates = [key for key in found if key not in never]
    anchors = [key for key in found if key not in never or key in _MLFLOW]
    pruned = _prune(found, candidates, anchors, notes)
    kept = {key: found[key] for key in candidates if key not in pruned}
    if pickled:
        _add_cloudpickle(kept, found, notes)
    requirements = [_requirement(item, notes) for _, item in sorted(kept.items())]
    if unowned:
        notes.append(f"Imported by libraries but provided by no installed distribution: {', '.join(unowned)}.")
    return RequirementsResult(requirements, sorted(local), notes)


def _map_uses(uses: list[ModuleUse], notes: list[str]) -> tuple[dict[str, _Found], list[str], list[str]]:
    """Group uses by top-level module and map them to distributions; also the unmapped modules."""
    by_module: dict[str, list[ModuleUse]] = {}
    for use in uses:
        top = use.name.partition(".")[0]
        if top and not top.startswith("_") and top not in _STDLIB and top != "__main__":
            by_module.setdefault(top, []).append(use)
    found: dict[str, _Found] = {}
    local: list[str] = []
    unowned: list[str] = []
    for top, module_uses in by_module.items():
        submodules = sorted({s for use in module_uses for s in use.submodules})
        infos = module_owners(top, submodules, notes)
        if not infos:
            if top != _OUR_PACKAGE:
                (local if any(use.direct for use in module_uses) else unowned).append(top)
            continue
        for info in infos:
            meta = dist_metadata(info)
            item = found.setdefault(canonical_name(meta.name), _Found(info, meta))
            if top not in item.modules:
                item.modules.append(top)
            for use in module_uses:
                reason = f"{top}: {use.how}"
                if reason not in item.reasons:
                    item.reasons.append(reason)
                item.direct = item.direct or use.direct
    return found, local, unowned


def _prune(found: dict[str, _Found], candidates: list[str], anchors: list[str], notes: list[str]) -> set[str]:
    """Indirect candidates installed anyway as (transitive) dependencies of a kept distribution."""
    indirect = [key for key in candidates if not found[key].direct]
    if not indirect:
        return set()
    closures = {key: dependency_closure(found[key].info, notes) for key in anchors}
    pruned = {key for key in indirect if any(key in closures[other] for other in anchors if other != key)}
    while True:  # a dependency cycle must keep one member, or all of it would vanish
        kept = [key for key in anchors if key not in pruned]
        orphan = next((key for key in sorted(pruned) if not any(key in closures[k] for k in kept)), None)
        if orphan is None:
            break
        pruned.discard(orphan)
    for key in sorted(pruned):
        by = next(found[k].meta.name for k in anchors if k not in pruned and key in closures[k])
        notes.append(
            f"{found[key].meta.name} left out: only library code imported it "
            f"({'; '.join(_stable_reasons(found[key].reasons))}), and {by} requires it."
        )
    return pruned


def _add_cloudpickle(kept: dict[str, _Found], found: dict[str, _Found], notes: list[str]) -> None:
    """Make sure cloudpickle, which every pickled model needs, is required."""
    if "cloudpickle" not in kept:
        if "cloudpickle" in found:
            kept["cloudpickle"] = found["cloudpickle"]
        else:
            infos = module_owners("cloudpickle", (), notes)
            if not infos:
                raise RequirementInferenceError(
                    f"Cannot infer requirements: cloudpickle, which pickles the model, is not installed "
                    f"where Python finds it. Install it (pip install cloudpickle), or {_FIX}."
                )
            kept["cloudpickle"] = _Found(infos[0], dist_metadata(infos[0]), ["cloudpickle"], direct=True)
    kept["cloudpickle"].reasons.append(_CLOUDPICKLE_REASON)


def _requirement(item: _Found, notes: list[str]) -> Requirement:
    """The pinned requirement of one kept distribution."""
    version = item.meta.version
    public, plus, label = version.partition("+")
    if plus:
        notes.append(
            f"{item.meta.name} {version}: the local version label +{label} was left out of the pin "
            f"({item.meta.name}=={public}); install that build yourself where the model is served."
        )
    return Requirement(item.meta.name, public, sorted(item.modules), list(item.reasons), item.direct)


def _stable_reasons(reasons: list[str]) -> list[str]:
    """Reasons without "imported by X" where "called by X" says the same: an import happens only in a
    process that had not imported the module yet, a call every time."""
    called = {r.replace(": called by ", ": imported by ", 1) for r in reasons if ": called by " in r}
    return [r for r in reasons if r not in called]
