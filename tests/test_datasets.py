"""Dataset descriptions for log_input: digests identify data, schemas and profiles describe it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heron.client.datasets import describe
from heron.errors import InvalidArgument, NotFound


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": [1.0, 2.5, None],
            "count": [1, 2, 3],
            "city": ["a", "b", "a"],
            "flag": [True, False, True],
        }
    )


def test_dataframe_digest_depends_on_content_only() -> None:
    first, second = describe(frame()), describe(frame())
    assert first.digest == second.digest
    assert len(first.digest) == 16
    changed = frame()
    changed.loc[0, "amount"] = 1.5
    assert describe(changed).digest != first.digest
    renamed = frame().rename(columns={"city": "town"})
    assert describe(renamed).digest != first.digest


def test_dataframe_schema_and_profile() -> None:
    described = describe(frame(), name="cards")
    assert described.name == "cards"
    assert described.source_type == "pandas"
    assert described.schema == {
        "columns": [
            {"name": "amount", "type": "float64"},
            {"name": "count", "type": "int64"},
            {"name": "city", "type": "string"},
            {"name": "flag", "type": "bool"},
        ]
    }
    profile = described.profile
    assert profile["num_rows"] == 3
    assert profile["columns"]["amount"] == {
        "nulls": 1,
        "mean": 1.75,
        "std": pytest.approx(1.0606601717798212),
        "min": 1.0,
        "max": 2.5,
    }
    assert profile["columns"]["city"] == {"nulls": 0, "distinct": 2}


def test_numpy_array() -> None:
    array = np.arange(12, dtype=np.float32).reshape(4, 3)
    described = describe(array)
    assert described.source_type == "numpy"
    assert described.schema == {"tensor": {"dtype": "float32", "shape": [-1, 3]}}
    assert described.profile["num_rows"] == 4
    assert described.profile["max"] == 11.0
    assert describe(array.astype(np.float64)).digest != described.digest


def test_parquet_and_csv_files(tmp_path: Path) -> None:
    parquet = tmp_path / "train.parquet"
    frame().to_parquet(parquet)
    described = describe(parquet)
    assert described.name == "train"
    assert described.source_type == "parquet"
    assert described.source == str(parquet)
    assert described.profile["num_rows"] == 3
    assert [c["name"] for c in described.schema["columns"]][:3] == ["amount", "count", "city"]
    csv = tmp_path / "train.csv"
    frame().to_csv(csv, index=False)
    as_csv = describe(str(csv), name="raw")
    assert as_csv.name == "raw"
    assert as_csv.source_type == "csv"
    assert as_csv.profile["num_rows"] == 3
    csv.write_text(csv.read_text() + "4.0,4,c,False\n")
    assert describe(csv).digest != as_csv.digest


def test_bad_dataset_inputs(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        describe(tmp_path / "missing.parquet")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InvalidArgument, match=r"\.parquet"):
        describe(tmp_path / "notes.txt")
    with pytest.raises(InvalidArgument, match="DataFrame"):
        describe({"a": 1})
