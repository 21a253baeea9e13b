"""The trial prediction: a model predicts on private copies of an example, as a loaded model would."""

from __future__ import annotations

from typing import Any

from ..errors import PyfuncError
from .samplecopy import sample_copy

__all__ = ["TrialPredictError", "trial_predict"]


class TrialPredictError(PyfuncError):
    """A trial prediction failed at ``stage`` (``load_context``, ``input``, ``predict``); ``original`` is the cause."""

    def __init__(self, stage: str, original: BaseException) -> None:
        what = {
            "load_context": "load_context failed with the given artifacts",
            "input": "the input example does not fit the signature",
            "predict": "predict failed on the input example",
        }[stage]
        super().__init__(f"{what} ({type(original).__name__}: {original})")
        self.stage = stage
        self.original = original


def trial_predict(loaded: Any, data: Any, params: Any = None) -> Any:
    """``loaded.predict(data, params)`` on deep copies of both: a predict that edits its input edits no one else's.

    ``loaded`` is a ``format.load.LoadedModel`` (read from a directory, or ``LoadedModel.in_memory``),
    so the input is enforced, params validated and predict dispatched exactly as after a load. Every
    sample inference runs through here: the save's, the authoring pipeline's in memory, on reload,
    and in the card of a loaded model. Raises ``TrialPredictError`` saying which stage failed.
    """
    try:
        data, params = loaded.prepare(sample_copy(data), sample_copy(params))
    except Exception as exc:
        raise TrialPredictError("input", exc) from exc
    try:
        return loaded.call("predict", data, params)
    except Exception as exc:
        raise TrialPredictError("predict", exc) from exc
