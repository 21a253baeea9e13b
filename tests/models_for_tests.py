"""Model sources shared by tests, executed as notebook cells so they pickle by value."""

from __future__ import annotations

import textwrap

LINEAR = """
import pandas as pd
from pyfunc_jupyter import PythonModel

class SimpleLinearModel(PythonModel):
    def predict(self, context, model_input):
        return pd.DataFrame(2 * model_input + 3)
"""

# The guide's ParameterizedLinearModel, as the body of a notebook cell (pandas as pd, PythonModel imported).
PARAMETERIZED = """\
class ParameterizedLinearModel(PythonModel):
    def __init__(self, slope, intercept):
        self.slope = slope
        self.intercept = intercept

    def predict(self, context, model_input):
        return pd.DataFrame(self.slope * model_input + self.intercept)
"""

WEIGHTS = """
import json
from pyfunc_jupyter import PythonModel

class WeightsModel(PythonModel):
    def load_context(self, context):
        with open(context.artifacts["weights"]) as f:
            self.w = json.load(f)["w"]

    def predict(self, context, model_input, params=None):
        return [x * self.w for x in model_input[0]]
"""


def define(source: str, name: str):
    """Run ``source`` in a namespace named __main__ and return the object called ``name``."""
    namespace = {"__name__": "__main__"}
    exec(compile(textwrap.dedent(source), f"<cell {name}>", "exec"), namespace)
    return namespace[name]
