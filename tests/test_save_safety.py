"""A save never deletes or leaks what is not the model, cleans up after itself, and names the fix for OS errors."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

import pyfunc_jupyter
from pyfunc_jupyter.errors import ModelSaveError, ModelStorageError
from pyfunc_jupyter.format import atomic as _atomic

from .test_magic import ip, run  # noqa: F401 - the in-process shell fixture

EXAMPLE = [1]


def double(model_input):
    return [2 * x for x in model_input]


def save(target, **kwargs):
    return pyfunc_jupyter.save_model(target, double, input_example=EXAMPLE, **kwargs)


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root`` (links not followed) with its content, to show nothing changed."""
    found: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[key] = ("link", os.readlink(path))
            elif path.is_file():
                found[key] = path.read_bytes()
            else:
                found[key] = "dir"
    return found


def staging_left(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(_atomic.STAGING_PREFIX)] if folder.exists() else []


def user_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "analysis.ipynb").write_text("{}")
    (path / "data").mkdir(exist_ok=True)
    (path / "data" / "rows.csv").write_text("a\n1\n")
    return path


# --- 1. overwrite replaces only a model directory or an empty one --------------------------------------------

def _cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(user_folder(tmp_path / "work"))
    return "."


def _parent_of_cwd(tmp_path, monkeypatch):
    user_folder(tmp_path / "work")
    monkeypatch.chdir(user_folder(tmp_path / "work" / "sub"))
    return ".."


def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(user_folder(tmp_path / "home")))
    return "~"


def _store_root(tmp_path, monkeypatch):
    pyfunc_jupyter.set_store(tmp_path / "store")
    pyfunc_jupyter.log_model("kept", double, input_example=EXAMPLE)
    (tmp_path / "store" / "MLmodel").write_text("flavors: {}\n")  # even looking like a model, the store stays
    return str(tmp_path / "store")


def _plain_folder(tmp_path, monkeypatch):
    return str(user_folder(tmp_path / "project"))


def _model_plus_user_files(tmp_path, monkeypatch):
    save(tmp_path / "m")
    (tmp_path / "m" / "notes.txt").write_text("mine")
    return str(tmp_path / "m")


def _model_plus_notebook(tmp_path, monkeypatch):
    save(tmp_path / "m")
    (tmp_path / "m" / "analysis.ipynb").write_text("{}")
    return str(tmp_path / "m")


def _symlink_to_model(tmp_path, monkeypatch):
    save(tmp_path / "m")
    (tmp_path / "link").symlink_to(tmp_path / "m")
    return str(tmp_path / "link")


def _mlmodel_is_a_symlink(tmp_path, monkeypatch):
    user_folder(tmp_path / "project")
    (tmp_path / "project" / "MLmodel").symlink_to(tmp_path / "project" / "analysis.ipynb")
    return str(tmp_path / "project")


def _mlmodel_is_a_folder(tmp_path, monkeypatch):
    (user_folder(tmp_path / "project") / "MLmodel").mkdir()
    return str(tmp_path / "project")


@pytest.mark.parametrize("make", [_cwd, _parent_of_cwd, _home, _store_root, _plain_folder, _model_plus_user_files,
                                  _model_plus_notebook, _symlink_to_model, _mlmodel_is_a_symlink,
                                  _mlmodel_is_a_folder])
def test_overwrite_refuses_anything_but_a_model_directory_and_touches_nothing(tmp_path, monkeypatch, make):
    target = make(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    with pytest.raises(ModelSaveError, match=r"Cannot (save|overwrite)"):
        save(target, overwrite=True)
    assert snapshot(tmp_path) == before
    pyfunc_jupyter.set_store(None)


def test_the_working_directory_is_never_a_target_even_when_empty(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    for overwrite in (False, True):
        with pytest.raises(ModelSaveError, match=r"working directory.*new sub-folder"):
            save(".", overwrite=overwrite)
    assert os.getcwd() == str(tmp_path / "empty") and os.listdir(".") == []
    save("model")  # a sub-folder of it is fine
    assert (tmp_path / "empty" / "model" / "MLmodel").is_file()


def test_the_file_system_root_is_refused_before_anything_else():
    with pytest.raises(ModelSaveError, match="root of the file system"):
        _atomic.check_target(Path("/"), overwrite=True)  # the check only: a regression here must not rm -rf /


def test_overwrite_replaces_a_model_an_empty_folder_and_a_foreign_flavor_model(tmp_path):
    save(tmp_path / "ours")
    (tmp_path / "empty").mkdir()
    foreign = tmp_path / "sklearn"
    foreign.mkdir()
    (foreign / "MLmodel").write_text(yaml.safe_dump({"flavors": {  # as MLflow 3 writes an sklearn model
        "python_function": {"env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                            "loader_module": "mlflow.sklearn", "model_path": "model.pkl", "predict_fn": "predict",
                            "python_version": "3.11.2"},
        "sklearn": {"code": None, "pickled_model": "model.pkl", "serialization_format": "cloudpickle",
                    "sklearn_version": "1.5.0"}}}))
    (foreign / "model.pkl").write_bytes(b"x")
    (foreign / "requirements.txt").write_text("scikit-learn\n")
    for target in ("ours", "empty", "sklearn"):
        save(tmp_path / target, overwrite=True)
        assert (tmp_path / target / "python_model.pkl").is_file() and not (tmp_path / target / "model.pkl").exists()
        pyfunc_jupyter.load_model(tmp_path / target)
    assert staging_left(tmp_path) == []


def test_magic_path_dot_overwrite_leaves_the_notebook_folder_alone(ip, tmp_path):  # noqa: F811
    user_folder(tmp_path)
    before = snapshot(tmp_path)
    ran = run(ip, """
        %%pyfunc_model --path . --overwrite --example "[1.0]"
        def plus_one(model_input):
            return [x + 1 for x in model_input]
        """)
    assert ran.error is not None and "working directory" in str(ran.error)
    assert snapshot(tmp_path) == before


# --- 6. artifacts and code paths --------------------------------------------------------------------------

def _bad_sources(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name -> (path to ship, what the error says); each made for real under ``tmp_path``."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.mkfifo(tmp_path / "fifo")
    cases = {"root": ("/", "root of the file system"), "empty": ("", "empty path"),
             "dot": (".", "copied into itself"), "dotdot": ("..", "copied into itself"),
             "fifo": (str(tmp_path / "fifo"), "special file"), "nul": ("w\x00.bin", "NUL byte")}
    for name, link, expect in [("abs_link", "/etc/passwd", "absolute or leads outside"),
                               ("out_link", "../outside", "absolute or leads outside"),
                               ("out_file", "../outside/secret.txt", "absolute or leads outside"),
                               ("round_trip", "../round_trip/ok.txt", "absolute or leads outside"),
                               ("loop", "loop", "symlink loop"), ("dangling", "nothing-here", "dangles")]:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "ok.txt").write_text("ok")
        (folder / "link").symlink_to(link if name != "loop" else folder / "link")
        cases[name] = (str(folder), expect)
    nested = tmp_path / "nested_fifo"
    (nested / "deep").mkdir(parents=True)
    os.mkfifo(nested / "deep" / "pipe")
    cases["nested_fifo"] = (str(nested), "special file")
    return cases


@pytest.mark.parametrize("kind", ["artifacts", "code_paths"])
def test_unsafe_artifact_and_code_sources_are_refused_before_writing(tmp_path, monkeypatch, kind):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    cases = _bad_sources(work)
    before = snapshot(tmp_path)
    for name, (source, expected) in cases.items():
        started = time.monotonic()
        arg = {"artifacts": {"a": source}} if kind == "artifacts" else {"code_paths": [source]}
        with pytest.raises(ModelSaveError, match=expected):
            save(work / "model", **arg)
        assert time.monotonic() - started < 10, name  # a FIFO is never opened (it would block for ever)
    assert snapshot(tmp_path) == before


def test_links_inside_an_artifact_folder_are_copied_as_links(tmp_path):
    source = tmp_path / "weights"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "w.txt").write_text("3")
    (source / "alias.txt").symlink_to("sub/w.txt")
    (source / "same").symlink_to("sub")

    class ReadsThroughLinks(pyfunc_jupyter.PythonModel):
        def load_context(self, context):
            folder = Path(context.artifacts["w"])
            self.k = int((folder / "alias.txt").read_text()) + int((folder / "same" / "w.txt").read_text())

        def predict(self, context, model_input):
            return [self.k]

    info = pyfunc_jupyter.save_model(tmp_path / "m", ReadsThroughLinks(), artifacts={"w": str(source)},
                                     input_example=EXAMPLE)
    copied = tmp_path / "m" / "artifacts" / "weights"
    assert os.readlink(copied / "alias.txt") == "sub/w.txt" and os.readlink(copied / "same") == "sub"
    assert info.example_output == [6]
    assert pyfunc_jupyter.load_model(tmp_path / "m").predict([1]) == [6]


# --- 7. leftovers --------------------------------------------------------------------------------------

SLOW_SAVE = """
import sys, time
import pyfunc_jupyter
from pyfunc_jupyter import PythonModel

class Slow(PythonModel):
    def load_context(self, context):
        print("building", flush=True)
        time.sleep(60)

    def predict(self, context, model_input):
        return model_input

if sys.argv[1] == "store":
    pyfunc_jupyter.log_model("slow", Slow(), input_example=[1], pip_requirements=["pandas"])
else:
    pyfunc_jupyter.save_model(sys.argv[1], Slow(), input_example=[1], pip_requirements=["pandas"])
"""


def start_slow_save(tmp_path: Path, where: str) -> subprocess.Popen:
    script = tmp_path / "slow_save.py"
    script.write_text(textwrap.dedent(SLOW_SAVE))
    env = {**os.environ, "PYFUNC_JUPYTER_STORE": str(tmp_path / "store")}
    proc = subprocess.Popen([sys.executable, str(script), where], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "building"  # mid-save: the staging folder exists
    return proc


@pytest.mark.parametrize("where", ["path", "store"])
def test_staging_of_a_killed_save_is_removed_by_the_next_save_or_listing_never_while_live(tmp_path, where):
    folder = tmp_path / "out" if where == "path" else tmp_path / "store" / "slow"
    proc = start_slow_save(tmp_path, str(folder / "model") if where == "path" else "store")
    try:
        [live] = staging_left(folder)
        assert len(live) < 35  # short, whatever the target's name: .pyfunc-staging-<pid>-<hex>
        assert str(proc.pid) in live  # names its owner
        # a save or a listing while the owner runs leaves its staging folder alone
        save(folder / "other")
        pyfunc_jupyter.list_models(tmp_path / "store")
        assert staging_left(folder) == [live]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert staging_left(folder) == [live]  # SIGKILL: nothing could clean up
    if where == "path":
        save(folder / "third")  # the next save into the folder cleans up
    else:
        assert pyfunc_jupyter.list_models(tmp_path / "store") == []  # the listing cleans up
    assert staging_left(folder) == []
    assert not (folder / "model").exists()


@pytest.mark.parametrize("where", ["path", "store"])
def test_sigterm_during_a_save_cleans_up_like_ctrl_c(tmp_path, where):
    target = tmp_path / "new" / "deeper" / "model"
    proc = start_slow_save(tmp_path, str(target) if where == "path" else "store")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == -signal.SIGTERM  # still dies of SIGTERM, as the sender meant
    assert not (tmp_path / "new").exists()  # staging and the folders the save made are gone
    assert not (tmp_path / "store").exists()


def test_a_failed_save_removes_the_folders_it_made_and_only_those(tmp_path):
    def broken(model_input):
        raise RuntimeError("boom")

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "keep").mkdir()  # existed before: an empty folder that is not ours to remove
    with pytest.raises(ModelSaveError, match="predict failed"):
        pyfunc_jupyter.save_model(tmp_path / "a" / "keep" / "b" / "c" / "m", broken, input_example=EXAMPLE)
    assert snapshot(tmp_path) == {"a": "dir", "a/keep": "dir"}
    pyfunc_jupyter.set_store(tmp_path / "fresh" / "store")
    try:
        with pytest.raises(ModelSaveError, match="predict failed"):
            pyfunc_jupyter.log_model("m", broken, input_example=EXAMPLE)
    finally:
        pyfunc_jupyter.set_store(None)
    assert not (tmp_path / "fresh").exists()


# --- 9. OS errors name the fix, nothing is half-written -----------------------------------------------------

def test_a_name_as_long_as_the_file_system_allows_saves_and_a_longer_one_is_refused(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    save(tmp_path / ("m" * limit))  # the staging name does not grow with the target's
    assert (tmp_path / ("m" * limit) / "MLmodel").is_file()
    with pytest.raises(ModelSaveError, match="shorter name"):
        save(tmp_path / "x" / ("m" * (limit + 1)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m" * limit]


def test_nul_bytes_in_a_path_are_refused_with_the_fix(tmp_path):
    with pytest.raises(ModelSaveError, match="NUL byte"):
        save(str(tmp_path / "a\x00b"))
    pyfunc_jupyter.set_store(str(tmp_path / "st\x00re"))
    try:
        with pytest.raises(ModelSaveError, match="NUL byte"):
            pyfunc_jupyter.log_model("m", double, input_example=EXAMPLE)
    finally:
        pyfunc_jupyter.set_store(None)
    assert list(tmp_path.iterdir()) == []


def test_a_store_path_that_is_a_file_names_the_fix(tmp_path):
    (tmp_path / "store").write_text("not a folder")
    pyfunc_jupyter.set_store(tmp_path / "store")
    try:
        with pytest.raises(ModelStorageError, match=r"is a file, not a folder.*set_store") as caught:
            pyfunc_jupyter.log_model("m", double, input_example=EXAMPLE)
    finally:
        pyfunc_jupyter.set_store(None)
    assert caught.value.errno == errno.ENOTDIR
    assert (tmp_path / "store").read_text() == "not a folder" and len(list(tmp_path.iterdir())) == 1


DISK_LIMIT = """
import resource, signal, sys
import pyfunc_jupyter
from pyfunc_jupyter.errors import ModelStorageError

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
try:
    pyfunc_jupyter.save_model(sys.argv[1], lambda x: x, input_example=[1], pip_requirements=["pandas"],
                              artifacts={"big": sys.argv[2]})
except ModelStorageError as exc:
    print(exc.errno, exc)
"""


def test_a_write_the_kernel_refuses_midway_leaves_nothing_and_names_the_fix(tmp_path):
    """A real kernel refusal in the middle of the payload: the child may not write files over 1 MB
    (RLIMIT_FSIZE), so copying a 4 MB artifact fails with EFBIG after the pickle was written, as a
    full disk fails with ENOSPC. No mount or root needed, so it runs everywhere."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 << 20))
    script = tmp_path / "limit.py"
    script.write_text(DISK_LIMIT)
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "out" / "m"), str(big)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"{errno.EFBIG} Saving the model failed"), out.stdout
    assert "ulimit -f" in out.stdout and "Nothing was saved" in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin", "limit.py"]


def _failing(real, code, when):
    def call(*args, **kwargs):
        if when(*args):
            named = args and isinstance(args[0], (str, os.PathLike))
            raise OSError(code, os.strerror(code), os.fspath(args[0]) if named else None)
        return real(*args, **kwargs)
    return call


@pytest.mark.parametrize("code, fix", [(errno.ENOSPC, "No space left.*Free some space"),
                                       (errno.EDQUOT, "quota"), (errno.EIO, "Input/output error")])
def test_disk_full_while_copying_an_artifact(tmp_path, monkeypatch, code, fix):
    """``copy_file_range`` is the call that writes artifact bytes; making it fail as a full disk does
    exercises the real error path (no fallback copy that would fail again, cleanup, message)."""
    (tmp_path / "w.bin").write_bytes(b"x" * 1000)
    monkeypatch.setattr(os, "copy_file_range", _failing(os.copy_file_range, code, lambda *a: True))
    with pytest.raises(ModelStorageError, match=fix) as caught:
        save(tmp_path / "out" / "m", artifacts={"w": str(tmp_path / "w.bin")})
    assert caught.value.errno == code
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.bin"]


@pytest.mark.parametrize("code, fix", [(errno.EROFS, "read-only file system.*set_store"),
                                       (errno.EACCES, "No permission to write"),
                                       (errno.ENOSPC, "No space left")])
def test_a_read_only_or_full_store_names_the_fix(tmp_path, monkeypatch, code, fix):
    """As root, chmod cannot make a folder read-only, so ``mkdir`` inside the store fails the way a
    read-only mount fails it (the first write of a save)."""
    store = tmp_path / "store"
    pyfunc_jupyter.set_store(store)
    try:
        pyfunc_jupyter.log_model("m", double, input_example=EXAMPLE)
        before = snapshot(tmp_path)
        monkeypatch.setattr(os, "mkdir", _failing(os.mkdir, code, lambda p, *a: str(store) in os.fspath(p)))
        with pytest.raises(ModelStorageError, match=fix):
            pyfunc_jupyter.log_model("m", double, input_example=EXAMPLE)
        with pytest.raises(ModelStorageError, match=fix):
            pyfunc_jupyter.log_model("other", double, input_example=EXAMPLE)
    finally:
        pyfunc_jupyter.set_store(None)
    assert snapshot(tmp_path) == before


def test_a_failing_publish_keeps_the_old_model(tmp_path, monkeypatch):
    save(tmp_path / "m")
    before = snapshot(tmp_path)
    monkeypatch.setattr(_atomic, "exchange", _failing(_atomic.exchange, errno.ENOSPC, lambda *a: True))
    with pytest.raises(ModelStorageError, match="No space left"):
        save(tmp_path / "m", overwrite=True)
    assert snapshot(tmp_path) == before


def test_listing_removes_leftovers_by_owner_not_by_name_alone(tmp_path, monkeypatch):
    """Owner gone (its pid in the name is dead, its lock free) -> removed, also in the older name format;
    an owner that cannot be told (no pid in the name) is given an hour."""
    model_dir = tmp_path / "store" / "m"
    model_dir.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for name in (f".pyfunc-staging-{dead.pid}-abc123", f".pyfunc-staging-version-{dead.pid}-1234abcd",
                 ".pyfunc-staging-unknown"):
        (model_dir / name / "artifacts").mkdir(parents=True)
    (tmp_path / "store" / f".pyfunc-staging-{dead.pid}-def456").mkdir()
    assert pyfunc_jupyter.list_models(tmp_path / "store") == []
    assert staging_left(model_dir) == [".pyfunc-staging-unknown"]
    assert staging_left(tmp_path / "store") == []
    monkeypatch.setattr(_atomic, "_STALE_UNKNOWN_OWNER", -60.0)  # as if the hour had passed
    pyfunc_jupyter.list_models(tmp_path / "store")
    assert staging_left(model_dir) == []
