"""Recording the imports a sample inference runs, and whether the model's own code ran them."""

from __future__ import annotations

import builtins
import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

__all__ = ["ImportRecorder", "ModuleUse"]

_OUR_PACKAGE = __name__.partition(".")[0]
# Our modules that are pickled by value into every model: their imports run where the model runs.
_BY_VALUE_MODULES = frozenset({f"{_OUR_PACKAGE}._base", f"{_OUR_PACKAGE}._hints"})
# Code that hosts the inference (kernel, test runner, debugger), not code the model depends on.
_HOST_PACKAGES = frozenset(
    {
        _OUR_PACKAGE,
        "IPython",
        "ipykernel",
        "ipywidgets",
        "comm",
        "traitlets",
        "zmq",
        "tornado",
        "jupyter_client",
        "jupyter_core",
        "debugpy",
        "pydevd",
        "pytest",
        "_pytest",
        "pluggy",
        "coverage",
        "hypothesis",
        "_pydevd_bundle",
        "_pydev_bundle",
    }
)
_STDLIB = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)
# How an import is phrased in the phases named for what runs (others: "imported by <phase>").
_DURING = {"unpickle": "while unpickling", "code": "while the model's code file ran"}
_DIRECT = {"unpickle": "imported while unpickling", "code": "imported by the model's code file"}
_CALLED = {"unpickle": "called while unpickling", "code": "called by the model's code file"}


@dataclass(frozen=True)
class ModuleUse:
    """One top-level module the sample inference used, how, and the submodules seen under it."""

    name: str
    how: str
    direct: bool
    submodules: tuple[str, ...] = ()


class ImportRecorder:
    """Record every import executed in the entering thread while active (also of loaded modules).

    An import is *direct* when the importing code is the model's own: ``__main__`` (a notebook;
    by-value pickled functions keep their module's ``__name__``), code without a file (``exec``)
    or a file outside site-packages and the standard library (``code/`` paths, user modules);
    otherwise it is *indirect* (library code). Imports run by the kernel or by pyfunc_jupyter's
    loader are not the model's and are ignored.
    """

    def __init__(self) -> None:
        self.phase = "load"
        self._seen: dict[tuple[str, str, bool], set[str]] = {}
        self._phrases: dict[tuple[str, str | None, bool], str] = {}
        self._thread: int | None = None
        self._depth = 0

    @property
    def uses(self) -> list[ModuleUse]:
        """Every distinct (module, how, direct) recorded so far, in first-seen order."""
        return [
            ModuleUse(name, how, direct, tuple(sorted(subs))) for (name, how, direct), subs in list(self._seen.items())
        ]

    def record(self, module_name: str, how: str, direct: bool = True) -> None:
        """Note a use of ``module_name`` (its top-level name is kept), e.g. a pickle reference."""
        top, _, rest = module_name.partition(".")
        self._add(top, (rest.partition(".")[0],) if rest else (), how, direct)

    def _add(self, top: str, seconds: Iterable[str], how: str, direct: bool) -> None:
        """Store one use; ``seconds`` are second-level names (used for namespace packages)."""
        if not top or top.startswith("_"):
            return
        subs = self._seen.get((top, how, direct))
        if subs is None:
            subs = self._seen[(top, how, direct)] = set()
        for second in seconds:
            if second and second != "*" and not second.startswith("_"):
                subs.add(f"{top}.{second}")

    def _imported(self, top: str, seconds: Iterable[str], importer: str | None, direct: bool) -> None:
        """Store an import seen by the hooks, phrased for the current phase."""
        self._record("imported by", _DIRECT, self.phase, top, seconds, importer, direct)

    def _called(self, top: str, seconds: Iterable[str], caller: str | None, direct: bool) -> None:
        """Store a call into ``top``'s code seen by the tracer, phrased for the current phase."""
        self._record("called by", _CALLED, f"call:{self.phase}", top, seconds, caller, direct)

    def _record(
        self,
        verb: str,
        direct_phrases: dict[str, str],
        kind: str,
        top: str,
        seconds: Iterable[str],
        who: str | None,
        direct: bool,
    ) -> None:
        """Store a use of ``top``, phrased once per (kind, who, direct): "<verb> <who> during <phase>"."""
        key = (kind, who, direct)
        how = self._phrases.get(key)
        if how is None:
            if direct:
                how = direct_phrases.get(self.phase, f"{verb} {self.phase}")
            else:
                how = f"{verb} {who or 'a library'} {_DURING.get(self.phase, f'during {self.phase}')}"
            self._phrases[key] = how
        self._add(top, seconds, how, direct)

    def __enter__(self) -> Self:
        thread = threading.get_ident()
        if self._depth and self._thread != thread:
            raise RuntimeError("This ImportRecorder is already recording in another thread; use one per thread.")
        if self._depth == 0:
            self._thread = thread
            _PATCH.acquire()
            recorders = _local.__dict__.setdefault("recorders", [])
            recorders.append(self)
            if len(recorders) == 1:
                _CallTracer.start()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            recorders = _local.__dict__.get("recorders", [])
            if self in recorders:
                recorders.remove(self)
            if not recorders:
                _CallTracer.stop()
            _PATCH.release()


_local = threading.local()  # .recorders: the recorders active in this thread


class _Patch:
    """The process-wide hooks on ``builtins.__import__`` and ``importlib.import_module``.

    Installed while any recorder is active in any thread; each hook records only into the
    recorders of the thread that runs the import, so recorders never block each other.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.saved: tuple[Callable, Callable, Callable, Callable] | None = None

    def acquire(self) -> None:
        """Install the hooks for the first user."""
        with self.lock:
            if self.users == 0:
                self.saved = _make_hooks(builtins.__import__, importlib.import_module)
                builtins.__import__, importlib.import_module = self.saved[2], self.saved[3]
            self.users += 1

    def release(self) -> None:
        """Restore the originals after the last user (unless someone has patched over us since)."""
        with self.lock:
            self.users -= 1
            if self.users == 0 and self.saved is not None:
                original_import, original_import_module, hook_import, hook_import_module = self.saved
                if builtins.__import__ is hook_import:
                    builtins.__import__ = original_import
                if importlib.import_module is hook_import_module:
                    importlib.import_module = original_import_module
                self.saved = None


_PATCH = _Patch()


def _make_hooks(original_import: Callable, original_import_module: Callable) -> tuple:
    """Wrappers that run the real import, then record it into this thread's active recorders."""

    # builtins.__import__'s own parameter names, which callers may pass by keyword
    def recording_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
        module = original_import(name, globals, locals, fromlist, level)
        recorders = _local.__dict__.get("recorders")
        if recorders:
            # called as a function (e.g. cloudpickle's subimport) when globals is None: ask its caller
            importer_globals = globals if globals is not None else sys._getframe(1).f_globals
            if level:  # relative: the importer's own package, resolved by the import itself
                name = getattr(module, "__name__", "")
                fromlist = ()
            _note(recorders, name if isinstance(name, str) else "", importer_globals, fromlist)
        return module

    def recording_import_module(name, package=None):
        module = original_import_module(name, package)
        recorders = _local.__dict__.get("recorders")
        if recorders:
            absolute = name if not name.startswith(".") else getattr(module, "__name__", "")
            _note(recorders, absolute, sys._getframe(1).f_globals, ())
        return module

    return original_import, original_import_module, recording_import, recording_import_module


def _note(recorders: list[ImportRecorder], name: str, importer_globals: Any, fromlist: Any) -> None:
    """Record ``name`` into each recorder, classified by who imported it."""
    top, _, rest = name.partition(".")
    if not top or top[0] == "_":
        return
    skip, direct, importer = _importer_kind(importer_globals)
    if skip or (importer == top and not direct):  # a package importing its own parts says nothing new
        return
    if not direct and _local.__dict__.get("importing"):
        return  # a library's import-time import: it runs only the first time in a process (see _CallTracer)
    if rest:
        seconds: Iterable[str] = (rest.partition(".")[0],)
    else:  # ``from pkg import sub``: keep the names that are submodules, not attributes
        seconds = [item for item in fromlist or () if isinstance(item, str) and f"{top}.{item}" in sys.modules]
    for recorder in recorders:
        recorder._imported(top, seconds, importer, direct)


_KIND_CACHE: dict[tuple[str | None, str | None], tuple[bool, bool, str | None]] = {}


def _importer_kind(importer_globals: Any) -> tuple[bool, bool, str | None]:
    """(skip, direct, importer's top-level package) for the globals of the importing code."""
    if not isinstance(importer_globals, dict) or not importer_globals:
        return False, False, None  # called from C without a Python frame: not the model's own code
    name, file = importer_globals.get("__name__"), importer_globals.get("__file__")
    key = (name if isinstance(name, str) else None, file if isinstance(file, str) else None)
    kind = _KIND_CACHE.get(key)
    if kind is None:
        kind = _KIND_CACHE[key] = _classify_importer(*key)
    return kind


def _classify_importer(name: str | None, file: str | None) -> tuple[bool, bool, str | None]:
    """Classify importing code by its module name and file (see ``ImportRecorder``)."""
    name = name or ""
    if name == "__main__":
        return False, True, None
    top = name.partition(".")[0]
    if name in _BY_VALUE_MODULES:
        return False, False, _OUR_PACKAGE
    if top in _HOST_PACKAGES:
        return True, False, top
    if top in _STDLIB or (file and _is_library_file(file)):
        return False, False, top or None
    return False, True, None


_LIBRARY_MARKERS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")
_STDLIB_PREFIXES: tuple[str, ...] | None = None


def _is_library_file(path: str) -> bool:
    """Whether ``path`` lies in a site-packages/dist-packages directory or in the standard library."""
    global _STDLIB_PREFIXES
    if _STDLIB_PREFIXES is None:
        stdlib = os.path.dirname(os.__file__)
        zips = [p for p in sys.path if p.endswith(".zip")]
        _STDLIB_PREFIXES = tuple({os.path.join(d, "") for d in (stdlib, os.path.realpath(stdlib), *zips)})
    for candidate in (path, os.path.realpath(path)):
        if any(marker in candidate for marker in _LIBRARY_MARKERS) or candidate.startswith(_STDLIB_PREFIXES):
            return True
    return False


class _CallTracer:
    """Which packages' code runs during a recording, and who called it (a ``sys.setprofile`` hook).

    Imports alone depend on the process's history: a module imported before is not imported again,
    so what a first sample inference records, the next one misses. Code that *runs* does not depend
    on it, so a call from one package into another (the model's code calling pandas, pandas calling
    pyarrow) is recorded each time. Work done while a module is first imported (its body and
    everything it calls) is left out for the same reason: it runs once per process. The hook is
    per thread (``sys.setprofile``), installed by the thread's outermost recorder, which puts back
    the profiler it displaced (a user's ``%prun``) when it stops.
    """

    @staticmethod
    def start() -> None:
        """Install the hook in this thread (remembering any profiler already installed)."""
        state = _local.__dict__
        state["importing"] = 0
        state["module_frames"] = []
        state["kinds"] = {}  # id(globals) -> (top-level package or "", skip, direct); globals kept alive below
        state["alive"] = []
        state["previous_profile"] = sys.getprofile()
        sys.setprofile(_profile)

    @staticmethod
    def stop() -> None:
        """Put back what was installed before (if nobody replaced our hook meanwhile)."""
        state = _local.__dict__
        if sys.getprofile() is _profile:
            _reinstall_profiler(state.get("previous_profile"))
        for key in ("importing", "module_frames", "kinds", "alive", "previous_profile"):
            state.pop(key, None)


def _reinstall_profiler(previous: Any) -> None:
    """Install ``previous`` (what ``sys.getprofile()`` gave) as this thread's profiler again.

    ``sys.getprofile()`` gives cProfile's profiler object, not a function: set back with
    ``sys.setprofile`` it would be called as one and every call would raise, so it re-enables itself.
    """
    import _lsprof

    if isinstance(previous, _lsprof.Profiler):
        previous.enable()
    else:
        sys.setprofile(previous)


def _kind(g: dict) -> tuple[str, bool, bool]:
    """(top-level package, skip, direct) of the code whose globals are ``g``; cached per recording."""
    kinds = _local.kinds
    kind = kinds.get(id(g))
    if kind is None:
        name = g.get("__name__")
        skip, direct, _ = _importer_kind(g)
        top = name.partition(".")[0] if isinstance(name, str) else ""
        kind = kinds[id(g)] = (top, skip, direct)
        _local.alive.append(g)  # ids stay unique while cached
    return kind


def _profile(frame: Any, event: str, arg: Any) -> None:
    """The profile hook: note cross-package calls outside first imports."""
    if event == "call":
        caller = frame.f_back
        if caller is None:
            return
        if frame.f_code.co_name == "<module>" and caller.f_globals.get("__name__") == "importlib._bootstrap":
            _local.importing += 1  # a module body run by an import (not a cell or an exec)
            _local.module_frames.append(frame)
            return
        if _local.importing:
            return
        g, callee_g = caller.f_globals, frame.f_globals
        if g is callee_g:
            return
        top, host, _ = _kind(callee_g)
        if host or not top or top[0] == "_" or top in _STDLIB:
            return  # e.g. the kernel's sys.stdout behind a print()
        caller_top, skip, direct = _kind(g)
        while caller_top in _STDLIB:  # functools, contextlib, copy...: the call is made for whoever called them
            caller = caller.f_back
            if caller is None:
                return
            caller_top, skip, direct = _kind(caller.f_globals)
        if not skip and top != caller_top:
            _called(top, callee_g.get("__name__"), caller_top, direct)
    elif event == "return":
        frames = _local.module_frames
        if frames and frames[-1] is frame:
            frames.pop()
            _local.importing -= 1
    elif event == "c_call":
        if _local.importing:
            return
        caller_top, skip, direct = _kind(frame.f_globals)
        if not direct or skip:
            return  # C functions called by libraries are those libraries' business
        module = getattr(arg, "__module__", None)
        if not isinstance(module, str):
            module = type(getattr(arg, "__self__", None)).__module__
        top = module.partition(".")[0] if isinstance(module, str) else ""
        if top and top[0] != "_" and top not in _STDLIB and top not in _HOST_PACKAGES:
            _called(top, module, caller_top, True)


def _called(top: str, module: Any, caller_top: str, direct: bool) -> None:
    """Record a call into ``module`` (dotted name) into this thread's recorders."""
    if top in _STDLIB or top == _OUR_PACKAGE:
        return
    rest = module.partition(".")[2] if isinstance(module, str) else ""
    seconds = (rest.partition(".")[0],) if rest else ()
    for recorder in _local.__dict__.get("recorders") or ():
        recorder._called(top, seconds, None if direct else (caller_top or None), direct)
