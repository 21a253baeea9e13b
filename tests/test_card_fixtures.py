"""The card's one definition: its JSON Schema, and golden fixtures that the Python and TypeScript builders share.

``tests/fixtures/cards/store/<case>/1`` are model directories (ours, MLflow's, broken ones);
``expected/<case>.json`` is the card (or its error) and the store listing entry each must give.
Here the Python side is checked against them and against ``pyfunc_jupyter/card/card.schema.json``;
``labextension/test/cardbuilder.test.mjs`` checks the side panel's TypeScript builder against the
same files (run below through ``npm run test:node``). Regenerate with ``make_fixtures.py``.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import pyfunc_jupyter
from pyfunc_jupyter.card.data import CARD_SCHEMA, model_card_data, unsaved_card_data
from pyfunc_jupyter.card.modelcard import model_card
from pyfunc_jupyter.errors import PyfuncError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "cards"
STORE = FIXTURES / "store"
SCHEMA_FILE = ROOT / "pyfunc_jupyter" / "card" / "card.schema.json"
CASES = sorted(p.stem for p in (FIXTURES / "expected").glob("*.json"))


def _schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def _validate(data: dict, volatile: dict | None = None) -> None:
    import jsonschema

    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)
    if volatile is not None:
        jsonschema.Draft202012Validator({"$ref": "#/$defs/IVolatile", "$defs": schema["$defs"]}).validate(volatile)


@pytest.fixture
def fixture_store(tmp_path):
    """The fixture store, read where it is committed (nothing here writes to it)."""
    pyfunc_jupyter.set_store(STORE)
    yield STORE
    pyfunc_jupyter.set_store(None)


def test_every_fixture_model_has_its_expectation():
    assert sorted(p.name for p in STORE.iterdir()) == CASES, "run make_fixtures.py"
    kinds = {c.split("_")[0] for c in CASES}
    assert {"ours", "mlflow", "broken", "sidecar"} <= kinds


@pytest.mark.parametrize("case", CASES)
def test_python_card_matches_the_fixture(fixture_store, case):
    expected = json.loads((FIXTURES / "expected" / f"{case}.json").read_text())
    shown = str(fixture_store)
    try:
        card = model_card(f"models:/{case}/1")
    except PyfuncError as exc:
        message = str(exc).replace(shown, "<store>")
        wanted = expected.get("card_error")
        assert wanted is not None, f"{case}: unexpected error {message}"
        assert message == wanted["message"] if "message" in wanted else message.startswith(wanted["prefix"])
    else:
        assert "card_error" not in expected, f"{case}: expected {expected['card_error']}"
        got = json.loads(json.dumps({"data": card.data, "volatile": card.volatile}).replace(shown, "<store>"))
        assert got == expected["card"]
        _validate(card.data, card.volatile)


@pytest.mark.parametrize("case", CASES)
def test_python_listing_matches_the_fixture(fixture_store, case):
    expected = json.loads((FIXTURES / "expected" / f"{case}.json").read_text())["listing"]
    [entry] = [e for e in pyfunc_jupyter.list_models(fixture_store) if e.name == case]
    error = entry.error.replace(str(fixture_store), "<store>") if entry.error else None
    if "error_prefix" in expected:
        assert error and error.startswith(expected["error_prefix"])
        error = None
    assert {
        "created": entry.created,
        "signature_summary": entry.signature_summary,
        "size_bytes": entry.size_bytes,
        "error": error,
    } == {k: v for k, v in expected.items() if k != "error_prefix"}


def test_fixtures_cover_the_checks_the_front_end_had_skipped():
    """The drift named in issue 12: compression and example-info checks, and the sidecar format."""
    errors = {c: json.loads((FIXTURES / "expected" / f"{c}.json").read_text()) for c in CASES}
    assert "python_model_compression" in errors["broken_compression"]["card_error"]["message"]
    assert "saved_input_example_info" in errors["broken_example_info"]["card_error"]["message"]
    assert "format 2" in errors["sidecar_newer_format"]["listing"]["error"]
    assert errors["ours_authored"]["card"]["data"]["preview"]["outputs"], "a card with a preview is covered"
    assert errors["ours_authored"]["card"]["data"]["state"], "a card with pickled state is covered"
    assert errors["mlflow_class"]["card"]["data"]["signature"]["params"], "params are covered"


def test_schema_version_is_one_number():
    """card/data.py, the schema file and the generated TypeScript name the same version."""
    assert _schema()["properties"]["schema"]["const"] == CARD_SCHEMA
    generated = (ROOT / "labextension" / "src" / "cardschema.ts").read_text()
    assert f"export const CARD_SCHEMA = {CARD_SCHEMA};" in generated
    for name in ("mime.ts", "store.ts", "cardbuilder.ts", "card.ts"):
        text = (ROOT / "labextension" / "src" / name).read_text()
        assert "schema: 1" not in text and "CARD_SCHEMA = 1" not in text, name


def test_the_schema_refuses_what_a_renderer_cannot_draw():
    """The schema is strict enough to catch drift: a missing, extra or mistyped key fails."""
    import jsonschema

    good = json.loads((FIXTURES / "expected" / "ours_authored.json").read_text())["card"]["data"]
    _validate(good)
    _validate({**good, "status": "unchanged: same as v12"})  # log_model found the store's latest identical
    for broken in (
        {k: v for k, v in good.items() if k != "summary"},
        {**good, "serve": "new section the schema does not know"},
        {**good, "schema": 2},
        {**good, "status": "unchanged"},
        {**good, "status": "unchanged: same as v0"},
        {**good, "checks": [{"check": "x", "severity": "fatal", "message": "m", "fix": "f"}]},
        {
            **good,
            "signature": {"inputs": [{"name": "x", "type": 3, "required": True}], "outputs": None, "params": None},
        },
    ):
        with pytest.raises(jsonschema.ValidationError):
            _validate(broken)


def test_cards_made_while_authoring_fit_the_schema(tmp_path):
    """An unsaved card (checks failed) and a saved one made from a directory with explicit facts."""
    data, volatile = unsaved_card_data(
        "m",
        lambda x: x,
        [{"check": "notebook-global", "severity": "error", "message": "uses a global", "fix": "pass it in"}],
    )
    _validate(data, volatile)
    model_dir = tmp_path / "copy"
    shutil.copytree(STORE / "ours_logged" / "1", model_dir)
    preview = copy.deepcopy(
        json.loads((FIXTURES / "expected" / "ours_authored.json").read_text())["card"]["data"]["preview"]
    )
    data, volatile = model_card_data(
        model_dir,
        name="n",
        version=None,
        uri=None,
        checks=[],
        preview=preview,
        state=[{"attribute": "w", "type": "float", "bytes": 8}],
        given_requirements={"requests": "given"},
        timings={"total": 0.5},
    )
    _validate(data, volatile)


@pytest.mark.slow
def test_typescript_builder_matches_the_fixtures():
    """``npm run test:node``: the generated types are current, and cardbuilder.ts gives every expected card."""
    npm = shutil.which("npm")
    assert npm, "node and npm are needed to build the JupyterLab extension (see README)"
    result = subprocess.run(
        [npm, "run", "--silent", "test:node"], cwd=ROOT / "labextension", capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert (
        f"# pass {len(CASES) * 2 + 2}" in result.stdout
    )  # + the schema version and the serve lines, result.stdout[-2000:]
    assert "# fail 0" in result.stdout


@pytest.mark.slow
def test_cards_of_the_pipeline_and_of_open_model_fit_the_schema(tmp_path):
    """The cards the magic and the panel show: authored (saved, with warnings) and opened again."""
    import warnings

    import pandas as pd

    from pyfunc_jupyter.authoring.pipeline import AuthorRequest, author, open_model

    class Noisy(pyfunc_jupyter.PythonModel):
        def predict(self, context, model_input):
            warnings.warn("noisy model", stacklevel=1)  # the default: the warning names this line
            return model_input * 2

    Noisy.__module__ = "__main__"  # as if defined in a notebook: pickled by value
    pyfunc_jupyter.set_store(tmp_path / "store")
    try:
        authored = author(AuthorRequest(model=Noisy(), input_example=pd.DataFrame({"x": [1.0]}), name="noisy"))
        assert authored.saved and authored.card.data["checks"], authored.card.data["checks"]
        _validate(authored.card.data, authored.card.volatile)
        with pytest.warns(UserWarning, match="noisy model"):  # the loaded model's predict, run for the preview
            opened = open_model("models:/noisy/1")
        assert opened.card.data["preview"]["outputs"][-1]["label"] == "loaded"
        _validate(opened.card.data, opened.card.volatile)
    finally:
        pyfunc_jupyter.set_store(None)


def test_cards_saved_in_the_tutorials_fit_the_schema():
    """The cards the tutorial notebooks were saved with (what nbval compares) are cards of this schema."""
    from pyfunc_jupyter.card.modelcard import MIME_TYPE

    seen = 0
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            for output in cell.get("outputs", []):
                if MIME_TYPE in output.get("data", {}):
                    _validate(output["data"][MIME_TYPE], output.get("metadata", {}).get(MIME_TYPE, {}).get("volatile"))
                    seen += 1
    assert seen >= 5, f"only {seen} cards in the tutorials"


def _expectations_writer():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_card_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_expectations


# MLmodel keys the loader reads, each given values of the wrong type (and a few right ones): the
# card's error (or card) and the listing's entry must be the same from both builders.
_MUTATIONS = (
    [((), v) for v in ([], "text", 3)]
    + [(("flavors",), v) for v in ([], None, "x")]
    + [(("flavors", "python_function"), v) for v in ("x", None, [1])]
    + [
        (("flavors", "python_function", key), v)
        for key, values in {
            "loader_module": (3, None, ["a"]),
            "python_model": (3, None, {"a": 1}),
            "code": (3, [], None, "code"),
            "artifacts": ([], "x", {"a": "x"}, {"a": {"path": 3}}, {"a": {"path": "artifacts/a"}}, None),
            "config": ("x", [1], {"k": [1, 2]}),
            "streamable": (
                "yes",
                1,
                True,
                "y" * 200,
                {"a": [1, "b", None, True, 1.5]},
                list(range(9)),
                "it's",
                {"g": 1, "b": {"c": {"d": [1], "e": "x" * 90}}, "a": [[[1]]], "f": None, "e": 2},
            ),
            "env": (3, [], "conda.yaml"),
            "python_model_compression": (3, "zstd", None, "lzma"),
            "data": (3, False),
        }.items()
        for v in values
    ]
    + [(("signature",), v) for v in ("x", [], {}, {"inputs": None, "outputs": None})]
    + [(("signature", part), v) for part in ("inputs", "outputs", "params") for v in (3, [], True)]
    + [(("signature", "inputs"), v) for v in ("not json", '[{"type": "nonsense"}]', '{"a": 1}', '[{"name": "x"}]')]
    + [(("saved_input_example_info",), v) for v in ("x", {}, {"artifact_path": 3}, {"artifact_path": ["a"]})]
    + [(("metadata",), v) for v in ("x", [], None)]
    + [
        (("utc_time_created",), "2024-01-02 03:04:05.000006"),
        (("model_size_bytes",), None),
    ]
)


# Sidecar keys the listing and the card read, given values of other types (and the format others).
_SIDECAR_MUTATIONS = [
    (key, v)
    for key, values in {
        "format": (None, 2, "1", True, 1.0),
        "created": (5, None, ["x"]),
        "signature_summary": (3, {}),
        "size_bytes": ("12", 1.5, True, None),
        "name": (3,),
        "run_id": (False,),
        "source": ([],),
        "artifact_name": ({},),
        "requirements": ({}, "x", [{"name": 3}, "x", {"name": "cloudpickle", "reasons": "r"}]),
        "card": ([], "x", {"model": 3, "checks": "x", "state": [1]}, {"preview": []}),
    }.items()
    for v in values
]


def _mutated(root: Path, base: Path, mlmodel_mutations: list, sidecar_mutations: list) -> None:
    """Copies of ``base`` under ``root/store``, one thing changed in each."""
    import yaml

    for index, (path, value) in enumerate(mlmodel_mutations):
        target = root / "store" / (f"m{index:03d}_" + "_".join(path or ("top",))) / "1"
        shutil.copytree(base, target)
        (target / "pyfunc_jupyter.json").unlink()  # so the listing reads the MLmodel too
        mlmodel = yaml.safe_load((target / "MLmodel").read_text())
        if not path:
            mlmodel = value
        else:
            node = mlmodel
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        (target / "MLmodel").write_text(yaml.safe_dump(mlmodel, sort_keys=True))
    for index, (key, value) in enumerate(sidecar_mutations):
        target = root / "store" / f"s{index:03d}_{key}" / "1"
        shutil.copytree(base, target)
        side = json.loads((target / "pyfunc_jupyter.json").read_text())
        side[key] = value
        (target / "pyfunc_jupyter.json").write_text(json.dumps(side))


@pytest.mark.slow
def test_both_builders_agree_on_mutated_mlmodels_and_sidecars(tmp_path):
    """A differential check beyond the golden fixtures: many malformed MLmodels and sidecars, one answer."""
    root = tmp_path / "cases"
    store = root / "store"
    _mutated(root, STORE / "ours_authored" / "1", _MUTATIONS, _SIDECAR_MUTATIONS)
    try:
        _expectations_writer()(store, root / "expected")
    finally:
        pyfunc_jupyter.set_store(None)
    npm = shutil.which("npm")
    assert npm
    result = subprocess.run(
        [npm, "run", "--silent", "test:node"],
        cwd=ROOT / "labextension",
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "CARD_FIXTURES": str(root)},
    )
    failed = [line for line in result.stdout.splitlines() if line.startswith("not ok")]
    assert result.returncode == 0 and not failed, "\n".join(failed) + "\n" + result.stdout[-6000:]
    assert f"# pass {(len(_MUTATIONS) + len(_SIDECAR_MUTATIONS)) * 2 + 2}" in result.stdout
