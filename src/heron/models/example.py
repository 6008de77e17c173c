"""Input examples, stored as ``input_example.json`` next to the model.

JSON rather than a pickle or Parquet: readable by people and by any language, and
loading it can run no code. Column data is pandas' "split" layout; arrays keep dtype.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from heron.errors import InvalidArgument

EXAMPLE_FILE = "input_example.json"
MAX_ROWS = 100


def write_example(data: Any, directory: Path, name: str = EXAMPLE_FILE) -> str:
    import pandas as pd

    document: dict[str, Any]
    if isinstance(data, np.ndarray):
        data = data[:MAX_ROWS]
        document = {"type": "ndarray", "dtype": data.dtype.str, "data": data.tolist()}
    elif isinstance(data, Mapping) and all(isinstance(v, np.ndarray) for v in data.values()):
        document = {
            "type": "tensors",
            "data": {
                k: {"dtype": v.dtype.str, "data": v[:MAX_ROWS].tolist()} for k, v in data.items()
            },
        }
    else:
        frame = _as_frame(data).head(MAX_ROWS)
        split = json.loads(frame.to_json(orient="split", date_format="iso", index=False))
        document = {
            "type": "dataframe",
            "columns": split["columns"],
            "dtypes": [str(t) for t in frame.dtypes],
            "data": split["data"],
        }
        if not isinstance(data, pd.DataFrame):
            document["type"] = "records" if isinstance(data, list) else "dataframe"
    (directory / name).write_text(json.dumps(document), encoding="utf-8")
    return name


def _as_frame(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        return pd.DataFrame({k: v if np.ndim(v) else [v] for k, v in data.items()})
    if isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
        return pd.DataFrame.from_records(data)
    raise InvalidArgument(
        f"input_example must be a DataFrame, numpy array, dict or list of records, "
        f"got {type(data).__name__}"
    )


def read_example(path: Path) -> Any:
    import pandas as pd

    document = json.loads(path.read_text(encoding="utf-8"))
    kind = document["type"]
    if kind == "ndarray":
        return np.asarray(document["data"], dtype=np.dtype(document["dtype"]))
    if kind == "tensors":
        return {
            k: np.asarray(v["data"], dtype=np.dtype(v["dtype"]))
            for k, v in document["data"].items()
        }
    frame = pd.DataFrame(document["data"], columns=document["columns"])
    for column, dtype in zip(document["columns"], document.get("dtypes", ()), strict=False):
        if dtype.startswith("datetime64"):
            frame[column] = pd.to_datetime(frame[column])
        elif dtype != "object":
            frame[column] = frame[column].astype(dtype)
    return frame
