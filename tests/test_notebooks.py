"""The tutorial notebooks: saved from a top-to-bottom run, linked from the README, and guarded by nbval."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from pyfunc_jupyter.card import MIME_TYPE

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
SANITIZE = ROOT / "notebooks" / "nbval_sanitize.cfg"


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def outputs(notebook: dict) -> Iterator[dict]:
    """Every output of every cell, in order."""
    for cell in notebook["cells"]:
        yield from cell.get("outputs", [])


def _title(notebook: dict) -> str:
    first = "".join(notebook["cells"][0]["source"]).splitlines()[0]
    return re.sub(r"^#\s+\d+\.\s+", "", first)


def test_there_are_seven_tutorials():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


def test_readme_links_the_tutorials_in_order_with_their_titles():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Tutorials", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"^\d+\. \[([^\]]+)\]\((notebooks/[^)]+\.ipynb)\)", section, re.MULTILINE)
    assert [path for _, path in links] == [f"notebooks/{p.name}" for p in NOTEBOOKS]
    assert [text for text, _ in links] == [_title(read_notebook(p)) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_outputs_come_from_one_run_top_to_bottom(path):
    notebook = read_notebook(path)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    # A fresh kernel numbers cells 1, 2, 3...: any cell re-run or skipped breaks the sequence.
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        # IPython shows a magic's UsageError on stderr rather than as an error output.
        errors = [
            o
            for o in cell["outputs"]
            if o["output_type"] == "error"
            or (o.get("name") == "stderr" and "".join(o["text"]).startswith("UsageError:"))
        ]
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        assert bool(errors) == expected, "".join(cell["source"])[:200]


def _edit_stream(notebook: dict) -> None:
    """The guide's 5/7/9 printed by tutorial 1 becomes 5/7/10."""
    for output in outputs(notebook):
        text = "".join(output.get("text", ""))
        if output.get("output_type") == "stream" and text.endswith("2  9\n"):
            output["text"] = text[:-2] + "10\n"
            return
    raise AssertionError("no 5/7/9 output found")


def _first_card(notebook: dict) -> dict:
    """The data of the first output that is a model card."""
    return next(o["data"] for o in outputs(notebook) if MIME_TYPE in o.get("data", {}))


def _edit_card_json(notebook: dict) -> None:
    """A card's preview claims the reloaded model matched when it did not: the JSON payload is checked too."""
    _first_card(notebook)[MIME_TYPE]["preview"]["outputs"][1]["table"]["rows"][0][0] += 1


def _edit_card_text(notebook: dict) -> None:
    """A card's text and HTML name another model; sanitizing must not hide that."""
    data = _first_card(notebook)
    for mime in ("text/plain", "text/html"):
        data[mime] = "".join(data[mime]).replace("MyModel", "YourModel")


EDITS = {"stream": _edit_stream, "card_json": _edit_card_json, "card_text": _edit_card_text}


@pytest.fixture(scope="module")
def nbval_verdicts(tmp_path_factory) -> dict[str, str]:
    """nbval's verdict on copies of tutorial 1: the unedited copy and one copy per edit (one run for all).

    The copies end at the last cell an edit touched (the cells after it would only repeat what the
    run of the tutorial itself checks). The run uses the same options as `./dev test`; the verdict
    for each copy is "passed", the text of its first failure, or "no cell ran".
    """
    original = read_notebook(NOTEBOOKS[0])
    copies = {"unedited": original}
    for name, edit in EDITS.items():
        copies[name] = json.loads(json.dumps(original))
        edit(copies[name])
    touched = max(
        next(i for i, (a, b) in enumerate(zip(original["cells"], nb["cells"], strict=True)) if a != b)
        for name, nb in copies.items()
        if name != "unedited"
    )
    folder = tmp_path_factory.mktemp("nbval")
    for name, notebook in copies.items():
        notebook["cells"] = notebook["cells"][: touched + 1]
        (folder / f"{name}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    report = folder / "report.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
        + ["-o", "junit_family=xunit1"]  # each case names its file
        + ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE)]
        + [f"{name}.ipynb" for name in copies],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    verdicts = dict.fromkeys(copies, "no cell ran")
    for case in ElementTree.parse(report).iter("testcase"):
        name = Path(case.get("file", "")).stem
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        if failure is not None and verdicts[name] in ("no cell ran", "passed"):
            verdicts[name] = (failure.get("message") or "") + (failure.text or "")
        elif verdicts[name] == "no cell ran":
            verdicts[name] = "passed"
    return verdicts


@pytest.mark.slow
@pytest.mark.parametrize("edit", list(EDITS))
def test_nbval_fails_a_notebook_whose_outputs_were_edited(nbval_verdicts, edit):
    assert "Cell outputs differ" in nbval_verdicts[edit]


@pytest.mark.slow
def test_nbval_passes_the_unedited_copy(nbval_verdicts):
    # The control for the test above: the copy itself passes, so only the edit made it fail.
    assert nbval_verdicts["unedited"] == "passed"
