"""MLflow ``/invocations`` request bodies, parsed into what ``Model.predict`` takes.

No web framework here: bytes and a content type in, a ``ScoringInput`` out, and
``InvalidArgument`` naming the problem for anything malformed. Numeric input becomes
a numpy array without a pandas round-trip unless the model's signature names columns
(then ``Model.predict`` needs a DataFrame anyway, and building it from one numpy block
is the cheap way).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from heron.errors import InvalidArgument
from heron.models import Signature

MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


@dataclass(frozen=True)
class ScoringInput:
    """One request's model input: ``data`` holds ``rows`` examples along its first axis."""

    data: Any
    rows: int
    params: dict[str, Any] | None = None


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidArgument(f"the request body is not valid JSON: {error}") from None


def invocation_media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_invocation(body: bytes, content_type: str, signature: Signature | None) -> ScoringInput:
    """An ``/invocations`` body (JSON in one of MLflow's four formats, or CSV)."""
    media = invocation_media(content_type)
    if media == "text/csv":
        return _csv_input(body, signature)
    if media not in ("application/json", ""):
        raise InvalidArgument(
            f"unsupported content type {media!r}: send application/json or text/csv"
        )
    return invocation_from_json(parse_json(body), signature)


def invocation_from_json(payload: Any, signature: Signature | None) -> ScoringInput:
    """A decoded ``/invocations`` JSON body (one of MLflow's four formats)."""
    if not isinstance(payload, dict):
        raise InvalidArgument(
            "the JSON body must be an object with one of the keys "
            f"{', '.join(MLFLOW_FORMATS)} (and optionally params)"
        )
    found = [key for key in MLFLOW_FORMATS if key in payload]
    unknown = sorted(set(payload) - {*MLFLOW_FORMATS, "params"})
    if len(found) != 1 or unknown:
        raise InvalidArgument(
            f"the JSON body must hold exactly one of {', '.join(MLFLOW_FORMATS)} "
            f"(and optionally params); got keys {sorted(payload)}"
        )
    params = _params(payload.get("params"))
    key = found[0]
    value = payload[key]
    if key == "dataframe_split":
        data, rows = _dataframe_split(value, signature)
    elif key == "dataframe_records":
        data, rows = _dataframe_records(value)
    else:
        data, rows = tensor_input(value, signature, key)
    return ScoringInput(data, rows, params)


def _params(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidArgument(f"params must be a JSON object, got {type(value).__name__}")
    return value


def _wants_columns(signature: Signature | None) -> bool:
    return signature is None or not signature.inputs.is_tensor


def _dataframe_split(value: Any, signature: Signature | None) -> tuple[Any, int]:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise InvalidArgument(
            'dataframe_split must be {"columns": [...], "data": [[...], ...]} '
            "with data a list of rows"
        )
    rows_data = value["data"]
    columns = value.get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
    ):
        raise InvalidArgument("dataframe_split.columns must be a list of column names")
    array = _numeric_array(rows_data)
    if array is not None and array.ndim == 1 and rows_data:
        array = array[:, np.newaxis]
    if columns is not None and array is not None and array.ndim == 2:
        if array.shape[1] != len(columns):
            raise InvalidArgument(
                f"dataframe_split.data rows have {array.shape[1]} values; "
                f"columns names {len(columns)}"
            )
    elif columns is not None:
        for index, row in enumerate(rows_data):
            if not isinstance(row, list) or len(row) != len(columns):
                raise InvalidArgument(
                    f"dataframe_split.data row {index} has "
                    f"{len(row) if isinstance(row, list) else 'no'} values; "
                    f"columns names {len(columns)}"
                )
    if not _wants_columns(signature) and array is not None:
        return array, len(array)
    import pandas as pd

    if array is not None and array.ndim == 2:
        frame = pd.DataFrame(array, columns=columns)
    else:
        try:
            frame = pd.DataFrame(rows_data, columns=columns)
        except (ValueError, TypeError) as error:
            raise InvalidArgument(f"dataframe_split.data is not a table: {error}") from None
    return frame, len(frame)


def _dataframe_records(value: Any) -> tuple[Any, int]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise InvalidArgument("dataframe_records must be a list of objects, one per row")
    import pandas as pd

    frame = pd.DataFrame.from_records(value)
    return frame, len(frame)


def tensor_input(value: Any, signature: Signature | None, key: str) -> tuple[Any, int]:
    """``instances`` / ``inputs``: a list of examples, or an object of named tensors."""
    if isinstance(value, dict):
        if not value:
            raise InvalidArgument(f"{key} is an empty object: name at least one input")
        tensors = {name: _array(v, f"{key}.{name}") for name, v in value.items()}
        if signature is not None and _single_unnamed_tensor(signature):
            raise InvalidArgument(
                f"{key}: this model takes one unnamed tensor; send a list of examples, "
                f"not named inputs ({', '.join(tensors)})"
            )
        if signature is not None and not signature.inputs.is_tensor:
            # Named inputs of a column model are its columns.
            import pandas as pd

            try:
                frame = pd.DataFrame({n: list(a) if a.ndim > 1 else a for n, a in tensors.items()})
            except ValueError as error:
                raise InvalidArgument(f"{key}: the columns differ in length ({error})") from None
            return frame, len(frame)
        lengths = {len(a) if a.ndim else 1 for a in tensors.values()}
        return tensors, max(lengths)
    if not isinstance(value, list):
        raise InvalidArgument(f"{key} must be a list of examples or an object of named inputs")
    if value and all(isinstance(v, dict) for v in value):
        if _wants_columns(signature):
            return _dataframe_records(value)
        raise InvalidArgument(f"{key}: this model takes tensors, not records of named fields")
    array = _array(value, key)
    if signature is not None and not signature.inputs.is_tensor:
        import pandas as pd

        names = [c.name for c in signature.inputs.columns]
        if array.ndim == 1 and len(names) > 1:
            array = array[np.newaxis, :]
        if array.ndim == 1:
            array = array[:, np.newaxis]
        if array.ndim != 2 or array.shape[1] != len(names):
            raise InvalidArgument(
                f"{key}: this model takes rows of {len(names)} values ({', '.join(names)}); "
                f"got shape {list(array.shape)}"
            )
        return pd.DataFrame(array, columns=names), len(array)
    return array, len(array) if array.ndim else 1


def _single_unnamed_tensor(signature: Signature) -> bool:
    tensors = signature.inputs.tensors
    return len(tensors) == 1 and tensors[0].name is None


def _numeric_array(rows: list[Any]) -> np.ndarray | None:
    """The rows as one numeric numpy block, or None when they hold anything else."""
    try:
        array = np.asarray(rows)
    except (ValueError, TypeError):
        return None
    return array if array.dtype.kind in "biuf" and array.ndim in (1, 2) else None


def _array(value: Any, where: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise InvalidArgument(
            f"{where} is not a rectangular array (rows of different lengths?): {error}"
        ) from None
    if array.dtype.kind == "O":
        raise InvalidArgument(f"{where} mixes types or nests unevenly; send a rectangular array")
    return array


def _csv_input(body: bytes, signature: Signature | None) -> ScoringInput:
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InvalidArgument(f"the CSV body could not be parsed: {error}") from None
    if signature is not None and signature.inputs.is_tensor:
        return ScoringInput(frame.to_numpy(), len(frame))
    return ScoringInput(frame, len(frame))


# -- responses ---------------------------------------------------------------------

_ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def jsonable(predictions: Any) -> Any:
    """Predictions as JSON-ready values (numpy arrays stay arrays: orjson writes them)."""
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return predictions.to_numpy()
    if isinstance(predictions, Mapping):
        return {str(k): jsonable(v) for k, v in predictions.items()}
    if isinstance(predictions, np.ndarray) and (
        predictions.dtype.kind not in "biuf" or not predictions.flags.c_contiguous
    ):
        return predictions.tolist()
    return predictions


def dump_json(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:
        # numpy scalars inside lists, float16 and other types orjson does not write.
        return orjson.dumps(value, option=_ORJSON_OPTIONS, default=_fallback)


def _fallback(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
