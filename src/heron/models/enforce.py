"""Checking and converting prediction input against a signature.

Rules (the same for every flavor): a missing required column is refused; extra
columns are dropped with a warning; a value is converted only when no information
can be lost (int -> float yes, float -> int no); every error names the column and the
type it expects.

``input_converter`` builds the checker once per loaded model. The common case, a
numpy array that already has the right dtype and shape, takes a handful of attribute
checks and no copy, because per-call overhead is what a scoring server pays on every
request (the benchmark's target is under 50 microseconds per single-row call).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np

from heron.errors import InvalidArgument
from heron.models.signature import COLUMN_TYPES, ColumnSpec, ParamSpec, Schema, TensorSpec

Converter = Callable[[Any], Any]


class ExtraColumnsWarning(UserWarning):
    """Input held columns the signature does not name; they were dropped."""


def input_converter(schema: Schema | None) -> Converter:
    if schema is None:
        return _no_schema
    if schema.is_tensor:
        if len(schema.tensors) == 1 and schema.tensors[0].name is None:
            return _single_tensor_converter(schema.tensors[0])
        return _named_tensors_converter(schema.tensors)
    return _columns_converter(schema.columns)


def _no_schema(data: Any) -> Any:
    return data


# -- tensors -----------------------------------------------------------------------


def _single_tensor_converter(spec: TensorSpec) -> Converter:
    expected = _numpy_dtype(spec.dtype)
    ndim = len(spec.shape)
    fixed = tuple((i, d) for i, d in enumerate(spec.shape) if d != -1)
    ndarray = np.ndarray

    def convert(data: Any) -> Any:
        if type(data) is ndarray and data.dtype == expected and data.ndim == ndim:
            shape = data.shape
            for axis, size in fixed:
                if shape[axis] != size:
                    break
            else:
                return data
        return _to_tensor(data, spec, expected)

    return convert


def _named_tensors_converter(specs: tuple[TensorSpec, ...]) -> Converter:
    def convert(data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise InvalidArgument(
                f"this model takes named tensors ({', '.join(str(s.name) for s in specs)}); "
                "pass a dict of arrays"
            )
        missing = [s.name for s in specs if s.name not in data]
        if missing:
            raise InvalidArgument(f"missing input tensor(s) {missing}")
        return {s.name: _to_tensor(data[s.name], s, _numpy_dtype(s.dtype)) for s in specs}

    return convert


def _numpy_dtype(name: str) -> np.dtype[Any]:
    return np.dtype({"str": "U", "bytes": "S"}.get(name, name))


def _to_tensor(data: Any, spec: TensorSpec, expected: np.dtype[Any]) -> np.ndarray:
    import pandas as pd

    label = f"tensor {spec.name!r}" if spec.name else "input"
    if isinstance(data, pd.DataFrame | pd.Series):
        data = data.to_numpy()
    elif isinstance(data, list | tuple) and data and isinstance(data[0], Mapping):
        data = pd.DataFrame.from_records(data).to_numpy()
    array = np.asarray(data)
    if array.dtype != expected:
        if expected.kind in "OUS" or array.dtype.kind in "OUS":
            if expected.kind != array.dtype.kind:
                raise InvalidArgument(
                    f"{label} expects {spec.dtype} values, got {array.dtype.name}"
                )
        elif not np.can_cast(array.dtype, expected, "safe") and not _int_to_float(
            array.dtype, expected
        ):
            raise InvalidArgument(
                f"{label} expects {spec.dtype}, got {array.dtype.name}: converting would lose "
                f"information; cast the input to {spec.dtype} yourself if that is intended"
            )
        array = array.astype(expected)
    if array.ndim != len(spec.shape) and len(spec.shape) == array.ndim + 1 and spec.shape[0] == -1:
        array = array[np.newaxis, ...]  # one example without its batch axis
    if array.ndim != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape, array.shape, strict=True)
    ):
        raise InvalidArgument(
            f"{label} expects shape {list(spec.shape)} (-1: any size), got {list(array.shape)}"
        )
    return array


def _int_to_float(source: np.dtype[Any], target: np.dtype[Any]) -> bool:
    # int64 -> float32 is not "safe" to numpy, but it is what users mean by "int to
    # float allowed": an integer feature fed to a float model.
    return source.kind in "iub" and target.kind == "f" and source.kind != "b"


# -- columns -----------------------------------------------------------------------


def _columns_converter(specs: tuple[ColumnSpec, ...]) -> Converter:
    names = [c.name for c in specs]
    by_name = {c.name: c for c in specs}

    def convert(data: Any) -> Any:
        frame = _to_frame(data, specs)
        present = list(frame.columns)
        missing = [by_name[n] for n in names if n not in frame.columns and by_name[n].required]
        if missing:
            raise InvalidArgument(
                "missing required column(s): "
                + ", ".join(f"{c.name!r} ({c.describe()})" for c in missing)
            )
        extra = [c for c in present if c not in by_name]
        if extra:
            warnings.warn(
                f"dropping column(s) the model's signature does not name: {extra}",
                ExtraColumnsWarning,
                stacklevel=3,  # the caller of Model.predict
            )
        keep = [n for n in names if n in frame.columns]
        if present != keep:
            frame = frame[keep]
        converted = {}
        for name in keep:
            column = frame[name]
            new = _convert_column(column, by_name[name])
            if new is not column:
                converted[name] = new
        if converted:
            frame = frame.assign(**converted)
        return frame

    return convert


def _to_frame(data: Any, specs: tuple[ColumnSpec, ...]) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        scalar = all(np.ndim(v) == 0 and not isinstance(v, list) for v in data.values())
        return pd.DataFrame({k: [v] for k, v in data.items()} if scalar else dict(data))
    if isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
        return pd.DataFrame.from_records(data)
    array = np.asarray(data)
    if array.ndim == 1 and len(specs) > 1:
        array = array[np.newaxis, :]
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2 or array.shape[1] != len(specs):
        raise InvalidArgument(
            f"this model takes {len(specs)} named columns "
            f"({', '.join(c.name for c in specs)}); got an array of shape {list(array.shape)}"
        )
    return pd.DataFrame(array, columns=[c.name for c in specs])


def _convert_column(column: Any, spec: ColumnSpec) -> Any:
    import pandas as pd

    dtype = column.dtype
    target = COLUMN_TYPES[spec.type]
    if str(dtype) == target and spec.type not in ("string", "binary", "array"):
        return column
    kind = dtype.kind if isinstance(dtype, np.dtype) else None
    if spec.type in ("integer", "long", "float", "double"):
        if kind is None and pd.api.types.is_numeric_dtype(dtype) and column.isna().any():
            kind = "f"  # a nullable Int64 column with missing values is not an integer column
        elif kind is None and pd.api.types.is_numeric_dtype(dtype):
            column = column.astype(dtype.numpy_dtype)
            dtype, kind = column.dtype, column.dtype.kind
        if kind in ("i", "u", "f") and (
            np.can_cast(dtype, target, "safe") or _int_to_float(dtype, np.dtype(target))
        ):
            return column.astype(target)
        if kind == "f" and not spec.required and spec.type in ("float", "double"):
            return column.astype(target)
        raise _type_error(spec, dtype, lossy=kind == "f")
    if spec.type == "boolean":
        if kind == "b":
            return column
        raise _type_error(spec, dtype)
    if spec.type == "datetime":
        if kind == "M":
            return column
        if kind == "O" and pd.api.types.infer_dtype(column, skipna=True) in ("datetime", "date"):
            return pd.to_datetime(column)
        raise _type_error(spec, dtype)
    return _check_objects(column, spec)


def _check_objects(column: Any, spec: ColumnSpec) -> Any:
    import pandas as pd

    inferred = pd.api.types.infer_dtype(column, skipna=True)
    wanted = {"string": ("string", "empty"), "binary": ("bytes", "empty")}.get(spec.type)
    if wanted is not None and inferred not in wanted:
        raise InvalidArgument(f"column {spec.name!r} expects {spec.type} values, got {inferred}")
    if spec.required and column.isna().any():
        raise InvalidArgument(f"column {spec.name!r} is required but has missing values")
    return column


def _type_error(spec: ColumnSpec, dtype: Any, *, lossy: bool = False) -> InvalidArgument:
    why = ": converting would lose information" if lossy else ""
    return InvalidArgument(
        f"column {spec.name!r} expects {spec.describe()} ({COLUMN_TYPES[spec.type]}), "
        f"got {dtype}{why}"
    )


# -- params ------------------------------------------------------------------------


def params_converter(
    specs: tuple[ParamSpec, ...],
) -> Callable[[Mapping[str, Any] | None], dict[str, Any] | None]:
    by_name = {p.name: p for p in specs}
    defaults = {p.name: p.default for p in specs}

    def convert(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not params:
            return dict(defaults) if defaults else None
        unknown = [k for k in params if k not in by_name]
        if unknown:
            known = ", ".join(by_name) or "none"
            raise InvalidArgument(f"unknown param(s) {unknown}; this model takes: {known}")
        merged = dict(defaults)
        for key, value in params.items():
            merged[key] = _convert_param(by_name[key], value)
        return merged

    return convert


def _convert_param(spec: ParamSpec, value: Any) -> Any:
    checks: dict[str, tuple[type, ...]] = {
        "boolean": (bool,),
        "integer": (int,),
        "long": (int,),
        "float": (int, float),
        "double": (int, float),
        "string": (str,),
        "binary": (bytes,),
    }
    allowed = checks.get(spec.type)
    if allowed is not None:
        is_bool = isinstance(value, bool | np.bool_)
        if not isinstance(value, allowed) or (is_bool and spec.type != "boolean"):
            raise InvalidArgument(
                f"param {spec.name!r} expects {spec.type}, got {type(value).__name__}"
            )
        if spec.type in ("float", "double"):
            return float(cast(float, value))
    return value
