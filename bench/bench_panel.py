"""Panel benchmark: opening the save/load panel on a store of 1,000 model versions.

Measured in this process: ``pyfunc_jupyter.panel(namespace)`` (which lists the store for the Load and
Compare tabs and fills their widgets) on a store of 1,000 versions, beside the same on a store of 10
versions, alternating, best and median of several runs. The store is made by saving one real model
and copying its directory. Target: the 1,000-version panel opens in under 1 second. Results go to
``bench/results_panel.json``. Run with ``./dev bench``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import pyfunc_jupyter

HERE = Path(__file__).resolve().parent
VERSIONS = 1000
RUNS = 7
TARGET_SECONDS = 1.0


def make_store(root: Path, versions: int) -> Path:
    """A store holding ``versions`` copies of one saved model (10 names × versions/10)."""
    store = root / f"store{versions}"
    model = root / "model"
    if not model.exists():
        pyfunc_jupyter.save_model(model, lambda model_input: model_input, input_example=pd.DataFrame({"x": [1.0]}))
    for index in range(versions):
        shutil.copytree(model, store / f"model_{index % 10}" / str(index // 10 + 1))
    return store


def open_panel(store: Path) -> tuple[float, int]:
    """Seconds to build the panel on ``store``, and how many versions its Load tab lists."""
    pyfunc_jupyter.set_store(store)
    started = time.perf_counter()
    shown = pyfunc_jupyter.panel({"__name__": "__main__"})
    seconds = time.perf_counter() - started
    return seconds, len(shown.load_tab.versions.options)


def main() -> int:
    samples: dict[int, list[float]] = {10: [], VERSIONS: []}
    with tempfile.TemporaryDirectory(prefix="pyfunc-bench-panel-") as tmp:
        stores = {n: make_store(Path(tmp), n) for n in samples}
        open_panel(stores[10])  # warm-up: imports of ipywidgets, pandas and our modules
        for _ in range(RUNS):
            for count, store in stores.items():
                seconds, listed = open_panel(store)
                assert listed == count, (listed, count)
                samples[count].append(seconds)
    median = {n: statistics.median(s) for n, s in samples.items()}
    verdict = "PASS" if median[VERSIONS] < TARGET_SECONDS else "FAIL"
    print(f"{'store':>14} {'median':>9} {'best':>9}")
    for count, values in samples.items():
        print(f"{count:>6} versions {median[count] * 1000:>7.0f} ms {min(values) * 1000:>7.0f} ms")
    print(
        f"1,000 versions vs 10: {median[VERSIONS] / median[10]:.1f}x; "
        f"target < {TARGET_SECONDS:.0f} s for 1,000: {verdict}"
    )
    (HERE / "results_panel.json").write_text(
        json.dumps({"samples": samples, "median": median, "verdict": verdict}, indent=2)
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
