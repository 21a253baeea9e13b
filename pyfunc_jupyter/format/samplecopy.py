"""Private copies of an input example and its params for every sample inference we run."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["sample_copy"]

_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None))


def sample_copy(value: Any) -> Any:
    """A deep copy of ``value``, so that a ``predict`` that edits its input leaves the caller's object as it was.

    MLflow's sample inference predicts on ``copy.deepcopy(input_example)`` for the same reason. A value
    that cannot be deep-copied (it holds a lock, say) is used as it is: that is all that can be done.
    """
    if isinstance(value, _IMMUTABLE):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an uncopyable example is still predicted on, as MLflow would not
        return value
