"""Data types of signatures: MLflow's scalar ``DataType`` and its composite types."""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["DataType", "Array", "Object", "Property", "Map", "AnyType", "type_from_json"]


class DataType(enum.Enum):
    """A scalar column or param type, named as in MLflow's signature JSON."""

    boolean = 1
    integer = 2
    long = 3
    float = 4
    double = 5
    string = 6
    binary = 7
    datetime = 8

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self):
        """The numpy dtype a column of this type has."""
        import numpy as np

        return np.dtype(_NUMPY[self])

    def to_python(self) -> type:
        """The Python type of a param of this type."""
        import datetime

        return {
            "boolean": bool,
            "integer": int,
            "long": int,
            "float": float,
            "double": float,
            "string": str,
            "binary": bytes,
            "datetime": datetime.datetime,
        }[self.name]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this type inside a column spec."""
        return {"type": self.name}


_NUMPY = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "object",
    DataType.binary: "object",
    DataType.datetime: "datetime64[ns]",
}


class Array:
    """A list-valued column or param: ``{"type": "array", "items": <type>}``."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"type": "array", "items": _type_dict(self.dtype)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("array", repr(self.dtype)))

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"


class Property:
    """A named property of an ``Object`` type."""

    def __init__(self, name: str, dtype: Any, required: bool = True) -> None:
        self.name, self.dtype, self.required = name, dtype, required

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, keyed by the property name."""
        return {self.name: {**_type_dict(self.dtype), "required": self.required}}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Property) and (self.name, self.dtype, self.required) == (
            other.name,
            other.dtype,
            other.required,
        )

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype!r}" + ("" if self.required else " (optional)")


class Object:
    """A dict-valued column or param with named properties."""

    def __init__(self, properties: list[Property]) -> None:
        self.properties = sorted(properties, key=lambda p: p.name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (properties sorted by name)."""
        props: dict[str, Any] = {}
        for prop in self.properties:
            props.update(prop.to_dict())
        return {"type": "object", "properties": props}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and self.properties == other.properties

    def __repr__(self) -> str:
        return "{" + ", ".join(repr(p) for p in self.properties) + "}"


class Map:
    """A dict-valued column with string keys and values of one type."""

    def __init__(self, value_type: Any) -> None:
        self.value_type = value_type

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"type": "map", "values": _type_dict(self.value_type)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and self.value_type == other.value_type

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"


class AnyType:
    """Any value: what inference falls back to when it cannot tell."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"type": "any"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    def __hash__(self) -> int:
        return hash("any")

    def __repr__(self) -> str:
        return "Any"


def _type_dict(dtype: Any) -> dict[str, Any]:
    return dtype.to_dict()


def type_from_json(spec: Any) -> Any:
    """Read a type from its JSON form (the ``type`` key and what goes with it); anything else is a ValueError."""
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ValueError(f"A type must be a JSON object with a string 'type'; got {spec!r:.80}")
    kind = spec["type"]
    if kind == "array":
        return Array(type_from_json(spec.get("items")))
    if kind == "object":
        properties = spec.get("properties")
        if not isinstance(properties, dict):
            raise ValueError(f"An object type needs a 'properties' mapping; got {properties!r:.80}")
        return Object(
            [Property(name, type_from_json(p), bool(p.get("required", True))) for name, p in properties.items()]
        )
    if kind == "map":
        return Map(type_from_json(spec.get("values")))
    if kind == "any":
        return AnyType()
    try:
        return DataType[kind]
    except KeyError:
        raise ValueError(
            f"Unknown type {kind!r}; expected one of {[t.name for t in DataType]}, array, object, map or any."
        ) from None
