"""Model base classes; pickled by value into every model, so this module imports nothing of ours."""

from __future__ import annotations

__all__ = ["PythonModel", "PythonModelContext"]


class _TypeHints:
    """The ``predict`` type hints MLflow's loader reads from a model (``input``/``output``)."""

    def __init__(self, input=None, output=None):  # noqa: A002 - MLflow's attribute names
        self.input = input
        self.output = output

    def __repr__(self):
        return f"_TypeHints(input={self.input!r}, output={self.output!r})"


class PythonModelContext:
    """What ``load_context`` receives: artifact paths and the model configuration."""

    def __init__(self, artifacts=None, model_config=None):
        self._artifacts = dict(artifacts or {})
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self):
        """Artifact name to absolute local path, as given to ``artifacts=`` when saving."""
        return self._artifacts

    @property
    def model_config(self):
        """The ``model_config`` saved with the model."""
        return self._model_config

    def __repr__(self):
        return f"PythonModelContext(artifacts={self._artifacts!r}, model_config={self._model_config!r})"


class PythonModel:
    """Base class of custom pyfunc models: override ``predict`` and, if needed, ``load_context``."""

    def load_context(self, context):
        """Load artifacts from ``context.artifacts``; called once each time the model is loaded."""

    def predict(self, context, model_input, params=None):
        """Return the model's prediction for ``model_input``; override this."""
        raise NotImplementedError(
            f"{type(self).__name__}.predict is not implemented: define "
            "predict(self, context, model_input, params=None) in your model class."
        )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        try:  # imported here, not at module level, so it is never pickled into a model
            from pyfunc_jupyter._hints import wrap_hinted_predict
        except ImportError:  # unpickled where pyfunc-jupyter is not installed: the class arrives complete
            return
        wrap_hinted_predict(cls)

    @property
    def predict_type_hints(self):
        """The ``list[...]`` type hints of ``predict`` that MLflow's loader validates inputs against."""
        cached = self.__dict__.get("_predict_type_hints")
        if cached is not None:
            return cached
        predict = type(self).predict
        return _TypeHints(getattr(predict, "_pyfunc_hint", None), getattr(predict, "_pyfunc_output_hint", None))


class _FunctionPythonModel(PythonModel):
    """Wraps a one-argument function as a model (MLflow's attribute names: func, signature)."""

    def __init__(self, func, signature=None):
        self.func = func
        self.signature = signature

    def predict(self, context, model_input, params=None):
        """Call the wrapped function on the input; params are not passed."""
        return self.func(model_input)

    @property
    def predict_type_hints(self):
        """The wrapped function's ``list[...]`` hints."""
        cached = self.__dict__.get("_predict_type_hints")
        if cached is not None:
            return cached
        try:
            from pyfunc_jupyter._hints import predict_hints
        except ImportError:
            return _TypeHints()
        return _TypeHints(*predict_hints(self.func))
