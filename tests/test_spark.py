"""``pyfunc_jupyter.spark_udf`` and MLflow's own ``spark_udf`` score our model directories on Spark.

One local Spark session (``local[2]``, pyspark from PyPI, Java 17) is shared by this module; its
Python workers run this interpreter, where MLflow is not installed. MLflow's ``spark_udf`` runs
in the MLflow interpreter (its own local session), on the same directories and rows. pyspark or
Java missing is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import types as T
from pyspark.sql.functions import col, struct

import pyfunc_jupyter
from pyfunc_jupyter.spark import SparkUdfError

from .conftest import run_python
from .models_for_tests import define

ROWS = 240

# Two named outputs of two types; a param; a marker of where it ran (MLflow imported there or not).
SCORER = """
import os
import sys

import pandas as pd
from pyfunc_jupyter import PythonModel

class Scorer(PythonModel):
    def __init__(self, load_log=None):
        self.load_log = load_log

    def load_context(self, context):
        if self.load_log:  # one line per load, naming the process
            with open(self.load_log, "a") as f:
                f.write(f"{os.getpid()}\\n")

    def predict(self, context, model_input, params=None):
        scale = (params or {}).get("scale", 1.0)
        return pd.DataFrame({
            "score": (model_input["x"] * 2 + model_input["n"]) * scale,
            "label": ["big" if v > 50 else "small" for v in model_input["x"]],
            "mlflow_here": ["mlflow" in sys.modules] * len(model_input),
        })
"""


# The JVM's quick compiler only: these jobs are too short for the optimising one to pay (a third less CPU).
QUICK_JVM = "-XX:TieredStopAtLevel=1"


def _frame(rows: int = ROWS) -> pd.DataFrame:
    return pd.DataFrame({"x": [i * 0.5 for i in range(rows)], "n": list(range(rows))})


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    """The module's one local Spark session; its Python workers are this interpreter."""
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("pyfunc-jupyter-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "50")
        .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
        .config("spark.driver.extraJavaOptions", QUICK_JVM)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = previous


@pytest.fixture(scope="module")
def scorer_dir(tmp_path_factory) -> Path:
    """The Scorer saved by pyfunc_jupyter (signature x: double, n: long; params scale: double = 1.0)."""
    target = tmp_path_factory.mktemp("spark-models") / "scorer"
    example = _frame(3)
    model = define(SCORER, "Scorer")()
    signature = pyfunc_jupyter.infer_signature(example, model.predict(None, example), params={"scale": 1.0})
    pyfunc_jupyter.save_model(target, model, signature=signature, input_example=example)
    return target


@pytest.fixture(scope="module")
def df(spark):
    return spark.createDataFrame(_frame()).repartition(2)


def _expected(scale: float = 1.0) -> pd.DataFrame:
    frame = _frame()
    return pd.DataFrame(
        {"score": (frame["x"] * 2 + frame["n"]) * scale, "label": ["big" if v > 50 else "small" for v in frame["x"]]}
    )


def _sorted(spark_df, *columns: str) -> pd.DataFrame:
    return spark_df.orderBy("n").select(*columns).toPandas()


def test_struct_result_is_inferred_from_the_signature(spark, df, scorer_dir):
    udf = pyfunc_jupyter.spark_udf(spark, scorer_dir)
    assert udf.result_type == T.StructType(
        [
            T.StructField("score", T.DoubleType()),
            T.StructField("label", T.StringType()),
            T.StructField("mlflow_here", T.BooleanType()),
        ]
    )
    out = _sorted(df.withColumn("p", udf()), "n", "p.score", "p.label", "p.mlflow_here")
    expected = _expected()
    assert out["score"].tolist() == expected["score"].tolist()
    assert out["label"].tolist() == expected["label"].tolist()
    assert not out["mlflow_here"].any()  # our loader on the executors; MLflow not even imported there


def test_result_types_follow_mlflows_rules(spark, df, scorer_dir):
    udf = {
        kind: pyfunc_jupyter.spark_udf(spark, scorer_dir, result_type=kind)
        for kind in ("double", "float", "string", "boolean", "array<double>", "array<string>")
    }
    typed = pyfunc_jupyter.spark_udf(spark, scorer_dir, result_type=T.ArrayType(T.StringType()))
    cols = [udf[kind]("x", "n").alias(kind) for kind in udf] + [typed(struct("x", "n")).alias("typed")]
    out = _sorted(df.select("n", *cols), *udf, "typed")
    expected = _expected()
    assert out["double"].tolist() == expected["score"].tolist()  # the leftmost numeric column
    assert out["float"].tolist() == expected["score"].astype("float32").tolist()
    assert out["string"].tolist() == expected["score"].map(str).tolist()  # the leftmost column, as text
    assert out["boolean"].tolist() == [False] * ROWS  # the leftmost boolean column
    assert [list(v) for v in out["array<double>"]] == [[s] for s in expected["score"]]  # every numeric column
    strings = [[str(s), label, "False"] for s, label in zip(expected["score"], expected["label"], strict=True)]
    assert [list(v) for v in out["array<string>"]] == strings
    assert [list(v) for v in out["typed"]] == strings


def test_columns_by_position_by_struct_or_by_signature_names(spark, df, scorer_dir):
    udf = pyfunc_jupyter.spark_udf(spark, scorer_dir, result_type="score double, label string")
    renamed = df.withColumnRenamed("x", "a").withColumnRenamed("n", "b")
    out = renamed.select(
        "b", udf("a", "b").alias("positional"), udf(struct(col("a").alias("x"), col("b").alias("n"))).alias("struct")
    )
    out = out.orderBy("b").toPandas()
    expected = _expected()
    for column in ("positional", "struct"):
        assert [r["score"] for r in out[column]] == expected["score"].tolist()
        assert [r["label"] for r in out[column]] == expected["label"].tolist()
    named = _sorted(df.select("n", udf().alias("p")), "n", "p.score")
    assert named["score"].tolist() == expected["score"].tolist()
    with pytest.raises(SparkUdfError, match=r"got 3 columns but the model takes 2 \(x, n\)"):
        udf("x", "n", "x")


def test_params_reach_predict(spark, df, scorer_dir):
    udf = pyfunc_jupyter.spark_udf(spark, scorer_dir, "double", params={"scale": 3.0})
    out = _sorted(df.select("n", udf().alias("p")), "p")
    assert out["p"].tolist() == _expected(3.0)["score"].tolist()
    with pytest.raises(pyfunc_jupyter.errors.SchemaEnforcementError, match="scale"):
        pyfunc_jupyter.spark_udf(spark, scorer_dir, "double", params={"scale": "three"})


def test_the_model_is_shipped_and_loaded_once_per_worker(spark, df, tmp_path):
    log = tmp_path / "loads.txt"
    example = _frame(3)
    model = define(SCORER, "Scorer")(load_log=str(log))
    pyfunc_jupyter.save_model(tmp_path / "logged", model, input_example=example)
    log.unlink(missing_ok=True)  # in case saving loaded it
    udf = pyfunc_jupyter.spark_udf(spark, tmp_path / "logged", "double")
    shutil.rmtree(tmp_path / "logged")  # the executors score from the shipped archive, not from this directory
    out = _sorted(df.select("n", udf().alias("p")), "p")
    assert out["p"].tolist() == _expected()["score"].tolist()
    loads = log.read_text().split()
    # 240 rows in 2 partitions, Arrow batches of at most 50 rows: at least 6 batches, each predicted;
    # the model was loaded once per Python worker that scored (no process loaded it twice)
    assert 1 <= len(loads) < 6 and len(set(loads)) == len(loads)


def test_bad_result_types_and_uris_are_clear_errors(spark, scorer_dir, tmp_path):
    with pytest.raises(SparkUdfError, match=r"'map<string,double>'|map<string,double> cannot hold"):
        pyfunc_jupyter.spark_udf(spark, scorer_dir, "map<string,double>")
    with pytest.raises(SparkUdfError, match="is not a Spark type"):
        pyfunc_jupyter.spark_udf(spark, scorer_dir, "doubble precision")
    with pytest.raises(SparkUdfError, match="DataType or a DDL string"):
        pyfunc_jupyter.spark_udf(spark, scorer_dir, 3.0)
    with pytest.raises(pyfunc_jupyter.errors.ModelLoadError):
        pyfunc_jupyter.spark_udf(spark, tmp_path / "no-such-model")


def test_without_pyspark_the_error_names_the_install_command(scorer_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    with pytest.raises(SparkUdfError, match=r"pip install 'pyfunc-jupyter\[spark\]'"):
        pyfunc_jupyter.spark_udf(object(), scorer_dir)


def test_a_prediction_without_the_requested_type_fails_the_job_with_our_message(spark, df, scorer_dir):
    udf = pyfunc_jupyter.spark_udf(spark, scorer_dir, "array<int>")  # the model gives no int32 column
    with pytest.raises(Exception, match="no values of the requested type int"):
        df.select(udf()).collect()


MLFLOW_SPARK = r"""
import json, os, sys
os.environ["PYSPARK_PYTHON"] = sys.executable
import mlflow.pyfunc
from pyspark.sql import SparkSession
from pyspark.sql.functions import struct
assert "pyfunc_jupyter" not in sys.modules
spec = json.loads(os.environ["SPEC"])
# one core and one partition: a single Python worker imports MLflow (ours runs the job on two)
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.driver.extraJavaOptions", spec["jvm"]).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.createDataFrame([(i * 0.5, i) for i in range(spec["rows"])], "x double, n long").repartition(1)
udfs = [mlflow.pyfunc.spark_udf(spark, spec["model"], result_type=kind, env_manager="local") for kind in spec["kinds"]]
out = df.select("n", *[udf(struct("x", "n")).alias(str(i)) for i, udf in enumerate(udfs)]).orderBy("n").collect()
spark.stop()
print(json.dumps([[row[str(i)] for i in range(len(udfs))] for row in out], default=str))
"""

KINDS = ["score double, label string", "double", "string", "array<string>"]


@pytest.mark.interop
def test_mlflows_spark_udf_scores_our_directory_as_ours_does(spark, df, scorer_dir, mlflow_python, tmp_path):
    spec = {"model": str(scorer_dir), "rows": ROWS, "kinds": KINDS, "jvm": QUICK_JVM}
    result = run_python(
        mlflow_python,
        MLFLOW_SPARK,
        cwd=tmp_path,
        env={"SPEC": json.dumps(spec), "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri()},
    )
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    udfs = [pyfunc_jupyter.spark_udf(spark, scorer_dir, kind) for kind in KINDS]
    rows = df.select("n", *[udf(struct("x", "n")).alias(str(i)) for i, udf in enumerate(udfs)]).orderBy("n").collect()
    ours = json.loads(json.dumps([[row[str(i)] for i in range(len(udfs))] for row in rows], default=str))
    assert len(theirs) == len(ours) == ROWS
    for mine, mlflows in zip(ours, theirs, strict=True):
        assert mine[:3] == mlflows[:3]  # struct, double, string: the same values
        # array<string>: every column as text; the last says whether MLflow was imported where it ran
        assert mine[3][:2] == mlflows[3][:2] and (mine[3][2], mlflows[3][2]) == ("False", "True")
