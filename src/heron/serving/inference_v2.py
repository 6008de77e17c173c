"""The Open Inference Protocol (KServe V2): request tensors in, response tensors out.

A request names typed tensors (``datatype``, ``shape``, flat or nested ``data``). A model
with one unnamed tensor input takes the single input tensor; a model with named tensors
takes them by name; a model with columns takes each input as a column (MLServer's
convention).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from heron.errors import InvalidArgument
from heron.models import Signature
from heron.serving.payloads import ScoringInput

DATATYPES: dict[str, str] = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_NUMPY_TO_V2 = {v: k for k, v in DATATYPES.items() if k != "BYTES"}
# Column types of a signature as V2 datatypes, for the model metadata route.
_COLUMN_TO_V2 = {
    "boolean": "BOOL",
    "integer": "INT32",
    "long": "INT64",
    "float": "FP32",
    "double": "FP64",
    "string": "BYTES",
    "binary": "BYTES",
    "datetime": "BYTES",
    "array": "BYTES",
}
# Parameters that describe the request itself, not the model's inference params.
_TRANSPORT_PARAMETERS = frozenset({"content_type", "headers"})


def parse_infer_request(payload: Any, signature: Signature | None) -> ScoringInput:
    if not isinstance(payload, dict):
        raise InvalidArgument('the V2 request must be a JSON object with "inputs"')
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidArgument('"inputs" must be a non-empty list of tensors')
    tensors = [_tensor(item, index) for index, item in enumerate(inputs)]
    params = _parameters(payload.get("parameters"))
    if signature is not None and not signature.inputs.is_tensor:
        import pandas as pd

        names = [c.name for c in signature.inputs.columns]
        if len(tensors) == 1 and tensors[0][0] not in names:
            # One [rows, columns] tensor for a column model: its columns in signature order.
            array = tensors[0][1]
            if array.ndim != 2 or array.shape[1] != len(names):
                raise InvalidArgument(
                    f"this model takes {len(names)} columns ({', '.join(names)}): send one "
                    f"input per column, or one tensor of shape [rows, {len(names)}]; "
                    f"got shape {list(array.shape)}"
                )
            return ScoringInput(pd.DataFrame(array, columns=names), len(array), params)
        columns = {name: (a if a.ndim == 1 else a.reshape(len(a), -1)[:, 0]) for name, a in tensors}
        lengths = {len(a) for a in columns.values()}
        if len(lengths) != 1:
            raise InvalidArgument(f"the input columns differ in length: {sorted(lengths)}")
        frame = pd.DataFrame(columns)
        return ScoringInput(frame, len(frame), params)
    named = signature is not None and any(t.name for t in signature.inputs.tensors)
    if len(tensors) == 1 and not named:
        array = tensors[0][1]
        return ScoringInput(array, len(array) if array.ndim else 1, params)
    data = dict(tensors)
    return ScoringInput(data, max(len(a) if a.ndim else 1 for a in data.values()), params)


def _parameters(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidArgument('"parameters" must be a JSON object')
    kept = {k: v for k, v in value.items() if k not in _TRANSPORT_PARAMETERS}
    return kept or None


def _tensor(item: Any, index: int) -> tuple[str, np.ndarray]:
    if not isinstance(item, dict):
        raise InvalidArgument(f"inputs[{index}] must be an object with name, shape, datatype, data")
    name = item.get("name")
    shape = item.get("shape")
    datatype = item.get("datatype")
    where = f"input {name!r}" if isinstance(name, str) else f"inputs[{index}]"
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"{where} needs a name")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise InvalidArgument(f"{where} needs a shape: a list of non-negative integers")
    if datatype not in DATATYPES:
        raise InvalidArgument(
            f"{where} has datatype {datatype!r}; use one of {', '.join(DATATYPES)}"
        )
    if "data" not in item:
        raise InvalidArgument(f"{where} has no data")
    dtype = DATATYPES[datatype]
    try:
        flat = np.asarray(item["data"]).reshape(-1)
    except (ValueError, TypeError) as error:
        raise InvalidArgument(f"{where} data is not a rectangular array: {error}") from None
    expected = int(np.prod(shape)) if shape else 1
    if flat.size != expected:
        raise InvalidArgument(f"{where} has {flat.size} values but shape {shape} needs {expected}")
    if datatype == "BYTES":
        if flat.dtype.kind not in "US":
            raise InvalidArgument(f"{where} is BYTES but holds {flat.dtype.name} values")
        return name, flat.astype(object).reshape(shape)
    if flat.dtype.kind not in "biuf" or (flat.dtype.kind == "f" and datatype[0] in "IUB"):
        raise InvalidArgument(f"{where} is {datatype} but holds {flat.dtype.name} values")
    return name, flat.astype(dtype).reshape(shape)


def infer_response(
    predictions: Any, model_name: str, model_version: str, request_id: str | None
) -> dict[str, Any]:
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        outputs = [_output(str(c), predictions[c].to_numpy()) for c in predictions.columns]
    elif isinstance(predictions, Mapping):
        outputs = [_output(str(k), np.asarray(v)) for k, v in predictions.items()]
    else:
        if isinstance(predictions, pd.Series):
            predictions = predictions.to_numpy()
        outputs = [_output("predictions", np.asarray(predictions))]
    response: dict[str, Any] = {
        "model_name": model_name,
        "model_version": model_version,
        "outputs": outputs,
    }
    if request_id is not None:
        response["id"] = request_id
    return response


def _output(name: str, array: np.ndarray) -> dict[str, Any]:
    datatype = _NUMPY_TO_V2.get(array.dtype.name)
    if datatype is None:
        values: Any = [str(v) if not isinstance(v, str) else v for v in array.reshape(-1)]
        datatype = "BYTES"
    else:
        values = np.ascontiguousarray(array.reshape(-1))
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": values}


def model_metadata(
    name: str, versions: list[str], platform: str, signature: Signature | None
) -> dict[str, Any]:
    return {
        "name": name,
        "versions": versions,
        "platform": platform,
        "inputs": _schema_metadata(signature.inputs, "input") if signature else [],
        "outputs": (
            _schema_metadata(signature.outputs, "output") if signature and signature.outputs else []
        ),
    }


def _schema_metadata(schema: Any, prefix: str) -> list[dict[str, Any]]:
    if schema.is_tensor:
        return [
            {
                "name": t.name or f"{prefix}-{i}",
                "datatype": _NUMPY_TO_V2.get(t.dtype, "BYTES"),
                "shape": list(t.shape),
            }
            for i, t in enumerate(schema.tensors)
        ]
    return [
        {"name": c.name, "datatype": _COLUMN_TO_V2[c.type], "shape": [-1]} for c in schema.columns
    ]
