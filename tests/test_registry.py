"""Managing versions in the folder store: unchanged re-logs reuse a version, descriptions, tags, aliases, deletion."""

from __future__ import annotations

import json
import multiprocessing
import os

import pandas as pd
import pytest

import pyfunc_jupyter as pj
from pyfunc_jupyter.errors import ModelLoadError, PyfuncError, RegistryError

EXAMPLE = pd.DataFrame({"x": [1.0, 2.0]})


class Scale(pj.PythonModel):
    def __init__(self, k):
        self.k = k

    def predict(self, context, model_input):
        return self.k * model_input["x"]


def _log(k=2, **kwargs):
    return pj.log_model("m", Scale(k), input_example=EXAMPLE, **kwargs)


def test_an_unchanged_model_reuses_the_latest_version_unless_asked(store):
    first = _log()
    again = _log()
    assert (again.version, again.unchanged, again.model_uri) == (1, True, "models:/m/1")
    assert again.utc_time_created == first.utc_time_created and again.path == first.path
    assert not first.unchanged
    forced = _log(new_version=True)
    assert (forced.version, forced.unchanged) == (2, False)
    changed = _log(k=3)
    assert (changed.version, changed.unchanged) == (3, False)
    back = _log(k=2)  # only the latest counts: what models:/m/latest gives must be this model
    assert (back.version, back.unchanged) == (4, False)
    assert [e.version for e in pj.list_models()] == [1, 2, 3, 4]
    hashes = [json.loads((store / "m" / str(v) / "pyfunc_jupyter.json").read_text())["content_hash"] for v in (1, 2, 3)]
    assert hashes[0] == hashes[1] != hashes[2]
    assert not any(p.name.startswith(".pyfunc-staging") for p in (store / "m").iterdir())


def test_what_counts_as_a_change(store, tmp_path):
    artifact = tmp_path / "table.txt"
    artifact.write_text("a")
    _log(artifacts={"table": str(artifact)})
    artifact.write_text("b")  # same size, other bytes
    assert not _log(artifacts={"table": str(artifact)}).unchanged
    assert not _log(artifacts={"table": str(artifact)}, extra_pip_requirements=["requests"]).unchanged
    assert not pj.log_model("m", Scale(2), input_example=pd.DataFrame({"x": [5.0]})).unchanged
    with pj.start_run():  # a run's models carry its id: a new version, so runs:/ resolves
        info = pj.log_model("m", Scale(2), input_example=pd.DataFrame({"x": [5.0]}))
    assert not info.unchanged


def test_descriptions_and_tags(store):
    _log()
    _log(k=3)
    entry = pj.update_model_version("m", 1, description="the first one")
    assert (entry.version, entry.description) == (1, "the first one")
    pj.set_model_version_tag("m", "1", "stage", "prod")
    pj.set_model_version_tag("m", 1, "score", 0.93)  # stored as text, as MLflow does
    pj.set_registered_model_tag("m", "team", "pricing")
    pj.update_registered_model("m", description="prices")
    listed = {e.version: e for e in pj.list_models()}
    assert listed[1].tags == {"stage": "prod", "score": "0.93"}
    assert listed[2].tags == {} and listed[2].description is None
    pj.delete_model_version_tag("m", 1, "score")
    pj.update_model_version("m", 1, description="")
    got = pj.get_model_version("m", 1)
    assert (got.description, got.tags) == (None, {"stage": "prod"})
    registry = json.loads((store / "m" / "registry.json").read_text())
    assert registry["description"] == "prices" and registry["tags"] == {"team": "pricing"}
    assert registry["versions"]["1"] == {"description": None, "tags": {"stage": "prod"}}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: pj.update_model_version("nope", 1, description="x"), "No model named 'nope'"),
        (lambda: pj.update_model_version("m", 7, description="x"), "has no version 7; its versions: [1]"),
        (lambda: pj.set_model_version_tag("m", 1, "", "x"), "Tag key '' is not usable"),
        (lambda: pj.set_model_version_tag("m", 1, "k", "x" * 100_001), "at most 100000"),
        (lambda: pj.delete_model_version_tag("m", 1, "missing"), "has no tag 'missing'"),
        (lambda: pj.set_registered_model_alias("m", "latest", 1), "is reserved"),
        (lambda: pj.set_registered_model_alias("m", "v2", 1), "is reserved"),
        (lambda: pj.set_registered_model_alias("m", "no spaces", 1), "is not usable"),
        (lambda: pj.set_registered_model_alias("m", "champion", 3), "has no version 3"),
        (lambda: pj.delete_registered_model_alias("m", "champion"), "has no alias 'champion'"),
        (lambda: pj.get_model_version_by_alias("m", "champion"), "has no alias 'champion'"),
        (lambda: pj.delete_model_version("m", "../1"), "has no version '../1'"),
        (lambda: pj.update_model_version("../m", 1, description="x"), "No model named '../m'"),
        (lambda: pj.update_model_version("m", 1, description=3), "description must be a string"),
    ],
)
def test_bad_arguments_are_clear_errors_that_change_nothing(store, call, message):
    _log()
    pj.set_model_version_tag("m", 1, "kept", "yes")

    def state():
        return sorted(p for p in os.listdir(store / "m") if not p.startswith(".")), (
            store / "m" / "registry.json"
        ).read_text()

    before = state()
    with pytest.raises(RegistryError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        call()
    assert issubclass(RegistryError, PyfuncError) and state() == before


def test_aliases_resolve_move_and_show_in_the_listing(store):
    _log()
    _log(k=3)
    pj.set_registered_model_alias("m", "champion", 1)
    pj.set_registered_model_alias("m", "challenger", "2")
    assert pj.load_model("models:/m@champion").predict(EXAMPLE).tolist() == [2.0, 4.0]
    assert pj.get_model_version_by_alias("m", "challenger").version == 2
    assert [(e.version, e.aliases) for e in pj.list_models()] == [(1, ["champion"]), (2, ["challenger"])]
    pj.set_registered_model_alias("m", "champion", 2)  # moves
    assert pj.load_model("models:/m@champion").predict(EXAMPLE).tolist() == [3.0, 6.0]
    assert [(e.version, e.aliases) for e in pj.list_models()] == [(1, []), (2, ["challenger", "champion"])]
    pj.delete_registered_model_alias("m", "challenger")
    with pytest.raises(ModelLoadError, match=r"has no alias 'challenger'.*its aliases: \['champion'\]"):
        pj.load_model("models:/m@challenger")
    with pytest.raises(ModelLoadError, match="No model named 'other'"):
        pj.load_model("models:/other@champion")


def test_deleting_a_version_removes_its_metadata_and_aliases_and_never_reuses_its_number(store):
    _log()
    _log(k=3)
    pj.set_registered_model_alias("m", "champion", 2)
    pj.set_model_version_tag("m", 2, "stage", "prod")
    pj.delete_model_version("m", 2)
    assert [e.version for e in pj.list_models()] == [1]
    with pytest.raises(ModelLoadError, match="has no version '2'"):
        pj.load_model("models:/m/2")
    with pytest.raises(ModelLoadError, match="has no alias 'champion'"):
        pj.load_model("models:/m@champion")
    registry = json.loads((store / "m" / "registry.json").read_text())
    assert registry["aliases"] == {} and "2" not in registry["versions"]
    assert pj.load_model("models:/m/latest").predict(EXAMPLE).tolist() == [2.0, 4.0]
    assert _log(k=4).version == 3  # 2 stays retired
    assert not any(p.name.startswith(".pyfunc-deleted") for p in (store / "m").iterdir())


def _tag_many(store: str, worker: int) -> None:
    os.environ["PYFUNC_JUPYTER_STORE"] = store
    pj.set_store(None)
    for i in range(15):
        pj.set_model_version_tag("m", 1, f"w{worker}-{i}", i)


def test_concurrent_writers_lose_nothing(store):
    _log()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_tag_many, args=(str(store), n)) for n in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert [p.exitcode for p in workers] == [0, 0, 0]
    assert len(pj.get_model_version("m", 1).tags) == 45


def test_a_broken_registry_file_does_not_break_listing_or_loading(store):
    _log()
    (store / "m" / "registry.json").write_text("{not json")
    assert [e.version for e in pj.list_models()] == [1]
    assert pj.load_model("models:/m/1") is not None
    with pytest.raises(RegistryError, match=r"unreadable.*Fix or delete it"):
        pj.set_model_version_tag("m", 1, "k", "v")
    with pytest.raises(ModelLoadError, match="unreadable"):
        pj.load_model("models:/m@champion")
