"""Signatures: column, tensor and param specs, and their MLflow JSON encoding."""

from __future__ import annotations

import json
from typing import Any

from .types import AnyType, Array, DataType, Map, Object, type_from_json

__all__ = ["ColSpec", "TensorSpec", "Schema", "ParamSpec", "ParamSchema", "ModelSignature", "type_repr"]


def _as_type(value: Any) -> Any:
    if isinstance(value, str):
        return type_from_json({"type": value})
    if isinstance(value, (DataType, Array, Object, Map, AnyType)):
        return value
    raise ValueError(f"Unsupported column type {value!r}: use a DataType, its name, Array, Object, Map or AnyType.")


def type_repr(dtype: Any) -> str:
    """A column or param type as the signature summary and the card show it: ``double``, ``Array(string)``."""
    return dtype.name if isinstance(dtype, DataType) else repr(dtype)


class ColSpec:
    """A column of a column-based schema: its type, optional name and whether it is required."""

    def __init__(self, type: Any, name: str | int | None = None, required: bool = True) -> None:  # noqa: A002
        self.type = _as_type(type)
        self.name = name
        self.required = required
        if name is None and not required:
            raise ValueError("An unnamed column cannot be optional: give it a name or make it required.")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: type first, then name (if any) and required, as MLflow writes it."""
        d = self.type.to_dict()
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_json_dict(cls, **spec: Any) -> ColSpec:
        """Read one column spec of an MLflow signature."""
        return cls(type_from_json(spec), spec.get("name"), bool(spec.get("required", True)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and (self.name, self.type, self.required) == (
            other.name, other.type, other.required)

    def __repr__(self) -> str:
        required = "required" if self.required else "optional"
        prefix = "" if self.name is None else f"{self.name!r}: "
        return f"{prefix}{type_repr(self.type)} ({required})"


class TensorSpec:
    """A tensor input or output: numpy dtype and shape (``-1`` is any size)."""

    def __init__(self, type: Any, shape: tuple | list, name: str | None = None) -> None:  # noqa: A002
        import numpy as np

        self.type = np.dtype(type)
        if not isinstance(shape, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                             for d in shape):
            raise ValueError(f"A tensor shape must be a list of integers; got {shape!r:.80}")
        self.shape = tuple(shape)
        self.name = name
        self.required = True

    def to_dict(self) -> dict[str, Any]:
        """The JSON form MLflow writes."""
        spec = {"type": "tensor", "tensor-spec": {"dtype": self.type.name if self.type.kind not in "US"
                                                  else ("str" if self.type.kind == "U" else "bytes"),
                                                  "shape": list(self.shape)}}
        return {"name": self.name, **spec} if self.name is not None else spec

    @classmethod
    def from_json_dict(cls, **spec: Any) -> TensorSpec:
        """Read one tensor spec of an MLflow signature."""
        inner = spec.get("tensor-spec")
        if not isinstance(inner, dict) or "dtype" not in inner or "shape" not in inner:
            raise ValueError("A tensor spec needs 'tensor-spec' with 'dtype' and 'shape'.")
        return cls(inner["dtype"], inner["shape"], spec.get("name"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self.name, self.type, self.shape) == (
            other.name, other.type, other.shape)

    def __repr__(self) -> str:
        prefix = "" if self.name is None else f"{self.name!r}: "
        return f"{prefix}Tensor({self.type.name!r}, {self.shape})"


class Schema:
    """An ordered list of column specs or tensor specs (not both)."""

    def __init__(self, inputs: list) -> None:
        inputs = list(inputs)
        if not inputs:
            raise ValueError("A schema needs at least one column or tensor.")
        if not (all(isinstance(x, ColSpec) for x in inputs) or all(isinstance(x, TensorSpec) for x in inputs)):
            raise ValueError("A schema holds either column specs or tensor specs, not a mix.")
        named = [x.name is not None for x in inputs]
        if any(named) and not all(named):
            raise ValueError("Either all columns of a schema are named or none are.")
        if isinstance(inputs[0], TensorSpec) and len(inputs) > 1 and not all(named):
            raise ValueError("Several tensors must all be named.")
        self.inputs = inputs

    def is_tensor_spec(self) -> bool:
        """Whether this schema describes tensors."""
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        """Whether the columns or tensors are named."""
        return self.inputs[0].name is not None

    def input_names(self) -> list:
        """Names, or positions when unnamed."""
        return [x.name if x.name is not None else i for i, x in enumerate(self.inputs)]

    def required_input_names(self) -> list:
        """Names of the required inputs."""
        return [x.name if x.name is not None else i for i, x in enumerate(self.inputs) if x.required]

    def optional_input_names(self) -> list:
        """Names of the optional inputs."""
        return [x.name for x in self.inputs if not x.required]

    def input_types(self) -> list:
        """The type of each input."""
        return [x.type for x in self.inputs]

    def numpy_types(self) -> list:
        """numpy dtypes of the inputs (object for composite column types)."""
        import numpy as np

        return [x.type if isinstance(x, TensorSpec) else
                (x.type.to_numpy() if isinstance(x.type, DataType) else np.dtype("object")) for x in self.inputs]

    def pandas_types(self) -> list:
        """Same as ``numpy_types``: what a DataFrame column of each input holds."""
        return self.numpy_types()

    def to_dict(self) -> list[dict[str, Any]]:
        """The list of spec dicts."""
        return [x.to_dict() for x in self.inputs]

    def to_json(self) -> str:
        """The JSON string MLflow stores in MLmodel."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Schema:
        """Read a schema from its JSON string."""
        specs = json.loads(text)
        if not isinstance(specs, list):
            raise ValueError(f"A schema must be a JSON list of specs; got {type(specs).__name__}.")
        for spec in specs:
            if not isinstance(spec, dict):
                raise ValueError(f"Each spec must be a JSON object; got {spec!r:.80}")
        return cls([TensorSpec.from_json_dict(**s) if s.get("type") == "tensor" else ColSpec.from_json_dict(**s)
                    for s in specs])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self):
        return iter(self.inputs)

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(x) for x in self.inputs) + "]"


def _check_param_default(name: str, dtype: Any, default: Any, shape: tuple | None) -> Any:
    """Validate and normalise a param default by the predict-time rules (ints for a double become floats)."""
    if default is None:
        return None
    values = default if shape is not None else [default]
    if shape is not None and not isinstance(default, (list, tuple)):
        raise ValueError(f"Param {name!r} has shape [-1], so its default must be a list; got {default!r:.80}")
    if isinstance(dtype, DataType):  # ISO strings become dates or datetimes, by their precision (as MLflow)
        from .enforce import check_param_value

        try:
            values = [check_param_value(dtype, v) for v in values]
        except ValueError as exc:
            raise ValueError(f"Param {name!r}: the default {default!r:.80} does not fit type {dtype.name} "
                             f"({exc}). Give a default of that type.") from None
    return list(values) if shape is not None else values[0]


class ParamSpec:
    """An inference parameter: name, type, default and shape (``None`` scalar, ``(-1,)`` a list)."""

    def __init__(self, name: str, dtype: Any, default: Any, shape: tuple | list | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"A param name must be a non-empty string; got {name!r}")
        self.name = name
        self.dtype = _as_type(dtype)
        if self.dtype == DataType.binary:
            raise ValueError(f"Param {name!r}: binary params are not supported; use string.")
        if shape is not None and tuple(shape) != (-1,):
            raise ValueError(f"Param {name!r}: shape must be None (a scalar) or [-1] (a list); got {shape!r}")
        self.shape = tuple(shape) if shape is not None else None
        self.default = _check_param_default(name, self.dtype, default, self.shape)

    @property
    def type(self) -> Any:
        """Alias of ``dtype``."""
        return self.dtype

    def to_dict(self) -> dict[str, Any]:
        """The JSON form MLflow writes (datetime defaults as ISO strings)."""
        default = self.default
        if self.dtype == DataType.datetime and default is not None:
            default = [v.isoformat() for v in default] if self.shape else default.isoformat()
        return {"name": self.name, "default": default, "shape": list(self.shape) if self.shape else None,
                **self.dtype.to_dict()}

    @classmethod
    def from_json_dict(cls, **spec: Any) -> ParamSpec:
        """Read one param spec."""
        if "name" not in spec or "type" not in spec or "default" not in spec:
            raise ValueError(f"A param spec needs 'name', 'type' and 'default' (null for none); got {sorted(spec)}")
        return cls(spec["name"], type_from_json(spec), spec.get("default"), spec.get("shape"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and (self.name, self.dtype, self.default, self.shape) == (
            other.name, other.dtype, other.default, other.shape)

    def __repr__(self) -> str:
        shape = f" (shape: {list(self.shape)})" if self.shape else ""
        return f"{self.name!r}: {type_repr(self.dtype)} (default: {self.default!r}){shape}"


class ParamSchema:
    """The inference params a model accepts, with their defaults."""

    def __init__(self, params: list[ParamSpec]) -> None:
        params = list(params)
        names = [p.name for p in params]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Duplicate param names: {duplicates}")
        self.params = params

    def to_dict(self) -> list[dict[str, Any]]:
        """The list of param spec dicts."""
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        """The JSON string MLflow stores in MLmodel."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        """Read a param schema from its JSON string."""
        specs = json.loads(text)
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise ValueError("A param schema must be a JSON list of objects.")
        return cls([ParamSpec.from_json_dict(**s) for s in specs])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.params == other.params

    def __iter__(self):
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __repr__(self) -> str:
        return repr(self.params)


class ModelSignature:
    """What a model takes (inputs, params) and returns (outputs)."""

    def __init__(self, inputs: Schema | None = None, outputs: Schema | None = None,
                 params: ParamSchema | None = None) -> None:
        for label, value, kind in (("inputs", inputs, Schema), ("outputs", outputs, Schema),
                                   ("params", params, ParamSchema)):
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"ModelSignature {label} must be a {kind.__name__} or None; "
                                f"got {type(value).__name__}.")
        if inputs is None and outputs is None and params is None:
            raise ValueError("At least one of inputs, outputs or params must be provided to ModelSignature; "
                             "to save a model without a signature, pass signature=None.")
        self.inputs, self.outputs, self.params = inputs, outputs, params

    def to_dict(self) -> dict[str, str | None]:
        """The mapping MLflow writes under ``signature`` in MLmodel: JSON strings or None."""
        return {"inputs": self.inputs.to_json() if self.inputs is not None else None,
                "outputs": self.outputs.to_json() if self.outputs is not None else None,
                "params": self.params.to_json() if self.params is not None else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSignature:
        """Read the ``signature`` mapping of an MLmodel."""
        if not isinstance(data, dict):
            raise ValueError(f"A signature must be a mapping; got {type(data).__name__}.")

        def read(key: str, kind: type[Schema] | type[ParamSchema]) -> Any:
            value = data.get(key)
            if value is None:
                return None
            if not isinstance(value, str):
                raise ValueError(f"signature.{key} must be a JSON string; got {type(value).__name__}.")
            return kind.from_json(value)

        return cls(read("inputs", Schema), read("outputs", Schema), read("params", ParamSchema))

    def summary(self) -> str:
        """One line: inputs -> outputs; params with defaults."""
        def cols(schema: Schema | None) -> str:
            if schema is None:
                return "?"
            return "[" + ", ".join(
                (f"{x.name}: " if x.name is not None else "") + (type_repr(x.type) if isinstance(x, ColSpec)
                                                                 else f"{x.type.name}{list(x.shape)}")
                for x in schema.inputs) + "]"

        text = f"{cols(self.inputs)} -> {cols(self.outputs)}"
        if self.params is not None:
            text += "; params: " + ", ".join(f"{p.name}: {type_repr(p.dtype)} = {p.default!r}" for p in self.params)
        return text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and (self.inputs, self.outputs, self.params) == (
            other.inputs, other.outputs, other.params)

    def __repr__(self) -> str:
        return f"inputs:\n  {self.inputs!r}\noutputs:\n  {self.outputs!r}\nparams:\n  {self.params!r}\n"
