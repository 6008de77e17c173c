"""Model signatures: the typed columns or tensors a model takes, and optional params.

A signature is plain data: it is stored in the manifest as YAML, read back, inferred
from an input example, and summarised in one line for the registry. Checking and
converting input against it lives in ``enforce.py``.

Column types use MLflow's names (``double``, ``long``, ...) so that MLflow signatures
map one to one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heron.errors import InvalidArgument

# Column type -> the numpy dtype a column of that type has once converted.
COLUMN_TYPES: dict[str, str] = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "object",
    "binary": "object",
    "datetime": "datetime64[ns]",
    "array": "object",
}
TENSOR_DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
    | {"float16", "float32", "float64", "str", "object", "bytes"}
)


@dataclass(frozen=True)
class ColumnSpec:
    """One named, typed column. ``items`` is the element type of an ``array`` column."""

    name: str
    type: str
    required: bool = True
    items: str | None = None

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise InvalidArgument(
                f"column {self.name!r} has unknown type {self.type!r}; "
                f"use one of {', '.join(COLUMN_TYPES)}"
            )
        if self.type == "array" and self.items not in COLUMN_TYPES:
            raise InvalidArgument(f"array column {self.name!r} needs an items type")

    def describe(self) -> str:
        kind = f"array<{self.items}>" if self.type == "array" else self.type
        return kind if self.required else f"{kind}?"


@dataclass(frozen=True)
class TensorSpec:
    """A tensor: dtype and shape, with -1 for a dimension of any size (the batch)."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        if self.dtype not in TENSOR_DTYPES:
            raise InvalidArgument(f"tensor {self.name or ''!r} has unknown dtype {self.dtype!r}")
        if any(not isinstance(d, int) or d < -1 or d == 0 for d in self.shape):
            raise InvalidArgument(f"tensor shape {list(self.shape)} may hold sizes >= 1 or -1")

    def describe(self) -> str:
        dims = ", ".join("-1" if d == -1 else str(d) for d in self.shape)
        return f"{self.dtype}[{dims}]"


@dataclass(frozen=True)
class ParamSpec:
    """A named inference parameter with a default, e.g. a decision threshold."""

    name: str
    type: str
    default: Any = None

    def __post_init__(self) -> None:
        if self.type == "array" or self.type not in COLUMN_TYPES:
            raise InvalidArgument(f"param {self.name!r} has unknown type {self.type!r}")


@dataclass(frozen=True)
class Schema:
    """Either columns or tensors, never both."""

    columns: tuple[ColumnSpec, ...] = ()
    tensors: tuple[TensorSpec, ...] = ()

    def __post_init__(self) -> None:
        if bool(self.columns) == bool(self.tensors):
            raise InvalidArgument("a schema holds either columns or tensors (exactly one kind)")
        names = [c.name for c in self.columns] or [t.name for t in self.tensors if t.name]
        if len(set(names)) != len(names):
            raise InvalidArgument(f"schema names must be unique, got {names}")

    @property
    def is_tensor(self) -> bool:
        return bool(self.tensors)

    def describe(self) -> str:
        if self.columns:
            return ", ".join(f"{c.name}: {c.describe()}" for c in self.columns)
        return ", ".join(
            f"{t.name}: {t.describe()}" if t.name else t.describe() for t in self.tensors
        )


@dataclass(frozen=True)
class Signature:
    inputs: Schema
    outputs: Schema | None = None
    params: tuple[ParamSpec, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": _schema_to_dict(self.inputs),
            "outputs": _schema_to_dict(self.outputs) if self.outputs else None,
            "params": [{"name": p.name, "type": p.type, "default": p.default} for p in self.params],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        try:
            outputs = data.get("outputs")
            return cls(
                inputs=_schema_from_dict(data["inputs"]),
                outputs=_schema_from_dict(outputs) if outputs else None,
                params=tuple(
                    ParamSpec(p["name"], p["type"], p.get("default"))
                    for p in data.get("params") or ()
                ),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidArgument(f"malformed signature in the manifest: {error!r}") from None


def _schema_to_dict(schema: Schema) -> dict[str, Any]:
    if schema.columns:
        columns = []
        for c in schema.columns:
            entry: dict[str, Any] = {"name": c.name, "type": c.type, "required": c.required}
            if c.items:
                entry["items"] = c.items
            columns.append(entry)
        return {"columns": columns}
    return {
        "tensors": [
            {"name": t.name, "dtype": t.dtype, "shape": list(t.shape)} for t in schema.tensors
        ]
    }


def _schema_from_dict(data: Mapping[str, Any]) -> Schema:
    if "columns" in data:
        return Schema(
            columns=tuple(
                ColumnSpec(str(c["name"]), c["type"], bool(c.get("required", True)), c.get("items"))
                for c in data["columns"]
            )
        )
    return Schema(
        tensors=tuple(
            TensorSpec(t["dtype"], tuple(int(d) for d in t["shape"]), t.get("name"))
            for t in data["tensors"]
        )
    )


def summary(signature: Signature | None) -> str:
    """One line for a registry listing, e.g. ``(age: long, income: double) -> double[-1]``."""
    if signature is None:
        return "no signature"
    text = f"({signature.inputs.describe()})"
    if signature.outputs is not None:
        text += f" -> {signature.outputs.describe()}"
    if signature.params:
        text += " [params: " + ", ".join(f"{p.name}={p.default!r}" for p in signature.params) + "]"
    return text


# -- inference from examples -------------------------------------------------------


def infer_signature(
    model_input: Any, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> Signature:
    """A signature read off an input example (and optionally an output and params)."""
    return Signature(
        inputs=infer_schema(model_input),
        outputs=infer_schema(model_output) if model_output is not None else None,
        params=tuple(_infer_param(k, v) for k, v in (params or {}).items()),
    )


def infer_schema(data: Any) -> Schema:
    import pandas as pd

    if isinstance(data, np.ndarray):
        return Schema(tensors=(_tensor_spec(data),))
    if isinstance(data, pd.Series):
        data = data.to_frame(name=str(data.name) if data.name is not None else "0")
    elif isinstance(data, Mapping):
        if data and all(isinstance(v, np.ndarray) and v.ndim > 1 for v in data.values()):
            return Schema(tensors=tuple(_tensor_spec(v, str(k)) for k, v in data.items()))
        data = pd.DataFrame({k: v if _is_sequence(v) else [v] for k, v in data.items()})
    elif isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
        data = pd.DataFrame.from_records(data)
    elif isinstance(data, list | tuple):
        return Schema(tensors=(_tensor_spec(np.asarray(data)),))
    if not isinstance(data, pd.DataFrame):
        raise InvalidArgument(
            f"cannot infer a signature from {type(data).__name__}: give a pandas DataFrame, "
            "numpy array, dict of columns or list of records, or pass signature= explicitly"
        )
    return Schema(columns=tuple(_column_spec(str(name), data[name]) for name in data.columns))


def _is_sequence(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray) or hasattr(value, "dtype")


def _tensor_spec(array: np.ndarray, name: str | None = None) -> TensorSpec:
    kind = array.dtype.kind
    dtype = {"U": "str", "S": "bytes", "O": "object"}.get(kind, array.dtype.name)
    shape = (-1, *array.shape[1:]) if array.ndim else ()
    return TensorSpec(dtype, tuple(int(d) for d in shape), name)


_NUMPY_TO_COLUMN = {
    "b": "boolean",
    "f": "double",
    "M": "datetime",
}


def _column_spec(name: str, column: Any) -> ColumnSpec:
    import pandas as pd

    required = not bool(column.isna().any())
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return ColumnSpec(name, "string", required)
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)  # nullable Int64 etc.
    kind = np.dtype(numpy_dtype).kind if not isinstance(dtype, pd.StringDtype) else "U"
    if kind in ("i", "u"):
        size = np.dtype(numpy_dtype).itemsize
        fits_int32 = size < 4 or (size == 4 and kind == "i")
        return ColumnSpec(name, "integer" if fits_int32 else "long", required)
    if kind == "f":
        return ColumnSpec(
            name, "float" if np.dtype(numpy_dtype).itemsize == 4 else "double", required
        )
    if kind in _NUMPY_TO_COLUMN:
        return ColumnSpec(name, _NUMPY_TO_COLUMN[kind], required)
    if kind == "U":
        return ColumnSpec(name, "string", required)
    return _object_column_spec(name, column.dropna(), required)


def _object_column_spec(name: str, values: Any, required: bool) -> ColumnSpec:
    import pandas as pd

    inferred = pd.api.types.infer_dtype(values, skipna=True)
    simple = {"string": "string", "bytes": "binary", "boolean": "boolean"}
    if inferred in simple:
        return ColumnSpec(name, simple[inferred], required)
    if inferred in ("datetime", "datetime64", "date"):
        return ColumnSpec(name, "datetime", required)
    if inferred == "mixed" and len(values) and all(_is_sequence(v) for v in values):
        first = next(iter(values))
        items = _column_spec(name, pd.Series(list(first))).type
        return ColumnSpec(name, "array", required, items=items)
    raise InvalidArgument(
        f"cannot infer a type for column {name!r} (pandas sees {inferred!r}); "
        "pass signature= explicitly"
    )


# Checked in this order: bool is an int to Python, so it comes first.
_PARAM_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "long"),
    (float, "double"),
    (str, "string"),
    (bytes, "binary"),
    (dt.datetime, "datetime"),
)


def _infer_param(name: str, value: Any) -> ParamSpec:
    for kind, type_name in _PARAM_TYPES:
        if isinstance(value, kind):
            return ParamSpec(name, type_name, value)
    raise InvalidArgument(f"param {name!r}: cannot infer a type for {type(value).__name__}")


def columns(**types: str) -> Schema:
    """Shorthand: ``columns(age="long", income="double")``."""
    return Schema(columns=tuple(ColumnSpec(n, t) for n, t in types.items()))
