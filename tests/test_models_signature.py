"""Signatures: inferred from examples, stored, summarised, and enforced at predict time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from heron.errors import InvalidArgument
from heron.models import ExtraColumnsWarning, Signature, infer_signature, signature_summary
from heron.models.enforce import input_converter, params_converter
from heron.models.signature import ColumnSpec, ParamSpec, Schema, TensorSpec, columns


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([31, 45], dtype="int64"),
            "small": np.array([1, 2], dtype="int32"),
            "income": [1200.5, None],
            "ratio": np.array([0.5, 0.25], dtype="float32"),
            "member": [True, False],
            "city": ["Lyon", "Oslo"],
            "blob": [b"\x00", b"\x01"],
            "seen": pd.to_datetime(["2026-01-01", "2026-02-01"]),
            "tags": [["a", "b"], ["c"]],
        }
    )


def test_every_column_type_is_inferred_from_a_dataframe(frame: pd.DataFrame) -> None:
    signature = infer_signature(frame, np.array([0.1, 0.2]), params={"threshold": 0.5})

    assert signature.inputs.columns == (
        ColumnSpec("age", "long"),
        ColumnSpec("small", "integer"),
        ColumnSpec("income", "double", required=False),
        ColumnSpec("ratio", "float"),
        ColumnSpec("member", "boolean"),
        ColumnSpec("city", "string"),
        ColumnSpec("blob", "binary"),
        ColumnSpec("seen", "datetime"),
        ColumnSpec("tags", "array", items="string"),
    )
    assert signature.outputs == Schema(tensors=(TensorSpec("float64", (-1,)),))
    assert signature.params == (ParamSpec("threshold", "double", 0.5),)
    assert Signature.from_dict(signature.to_dict()) == signature


def test_tensor_signature_and_summary() -> None:
    signature = infer_signature(np.zeros((3, 28, 28), dtype="float32"))

    assert signature.inputs.tensors == (TensorSpec("float32", (-1, 28, 28)),)
    assert signature_summary(signature) == "(float32[-1, 28, 28])"
    assert signature_summary(None) == "no signature"
    assert (
        signature_summary(Signature(columns(age="long"), params=(ParamSpec("k", "long", 3),)))
        == "(age: long) [params: k=3]"
    )


def test_records_and_dicts_infer_columns() -> None:
    records = infer_signature([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    scalars = infer_signature({"a": 1.5, "b": "x"})

    assert [c.type for c in records.inputs.columns] == ["long", "string"]
    assert [c.type for c in scalars.inputs.columns] == ["double", "string"]


def test_param_types_are_inferred_from_values() -> None:
    values = {
        "on": True,
        "k": 3,
        "t": 0.5,
        "mode": "fast",
        "raw": b"x",
        "at": dt.datetime(2026, 1, 1),
    }
    signature = infer_signature(np.zeros((1, 2)), params=values)

    assert [p.type for p in signature.params] == [
        "boolean", "long", "double", "string", "binary", "datetime"
    ]  # fmt: skip
    with pytest.raises(InvalidArgument, match="param 'x': cannot infer a type for list"):
        infer_signature(np.zeros((1, 2)), params={"x": [1]})


def test_unknown_types_and_kinds_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="cannot infer a signature from object"):
        infer_signature(object())
    with pytest.raises(InvalidArgument, match="unknown type 'decimal'"):
        ColumnSpec("x", "decimal")
    with pytest.raises(InvalidArgument, match="either columns or tensors"):
        Schema()


def test_integers_are_converted_to_float_columns() -> None:
    convert = input_converter(columns(x="double", y="float"))
    result = convert(pd.DataFrame({"x": [1, 2], "y": np.array([3, 4], dtype="int16")}))

    assert result["x"].dtype == np.float64
    assert result["y"].dtype == np.float32
    assert result["x"].tolist() == [1.0, 2.0]


def test_float_to_integer_is_refused_naming_the_column() -> None:
    convert = input_converter(columns(age="long"))

    with pytest.raises(InvalidArgument, match=r"column 'age' expects long \(int64\), got float64"):
        convert(pd.DataFrame({"age": [31.5]}))


def test_missing_required_column_is_refused_naming_its_type() -> None:
    convert = input_converter(columns(age="long", city="string"))

    with pytest.raises(InvalidArgument, match=r"missing required column\(s\): 'city' \(string\)"):
        convert(pd.DataFrame({"age": [31]}))


def test_optional_column_may_be_missing() -> None:
    schema = Schema(columns=(ColumnSpec("a", "double"), ColumnSpec("b", "double", False)))

    assert list(input_converter(schema)({"a": [1.0]}).columns) == ["a"]


def test_extra_columns_are_dropped_with_a_warning_and_order_follows_the_signature() -> None:
    convert = input_converter(columns(a="double", b="double"))

    with pytest.warns(ExtraColumnsWarning, match=r"\['debug'\]"):
        result = convert(pd.DataFrame({"debug": ["x"], "b": [2.0], "a": [1.0]}))

    assert list(result.columns) == ["a", "b"]


def test_wrong_value_types_are_refused() -> None:
    convert = input_converter(columns(city="string", member="boolean"))

    with pytest.raises(InvalidArgument, match="column 'city' expects string values, got integer"):
        convert({"city": [1], "member": [True]})
    with pytest.raises(InvalidArgument, match="column 'member' expects boolean"):
        convert({"city": ["a"], "member": [1]})


def test_every_input_form_is_accepted_for_columns() -> None:
    convert = input_converter(columns(a="double", b="long"))
    expected = pd.DataFrame({"a": [1.0], "b": [2]})

    for data in (
        expected,
        {"a": 1.0, "b": 2},
        {"a": [1.0], "b": [2]},
        [{"a": 1.0, "b": 2}],
    ):
        pd.testing.assert_frame_equal(convert(data), expected)
    with pytest.raises(InvalidArgument, match="takes 2 named columns"):
        convert(np.zeros((1, 3)))


def test_datetime_strings_are_not_datetimes_but_python_datetimes_are() -> None:
    convert = input_converter(columns(seen="datetime"))

    result = convert({"seen": [dt.datetime(2026, 1, 1)]})
    assert result["seen"].dtype.kind == "M"
    with pytest.raises(InvalidArgument, match="column 'seen' expects datetime"):
        convert({"seen": [1]})


def test_tensor_fast_path_returns_the_same_array() -> None:
    convert = input_converter(Schema(tensors=(TensorSpec("float64", (-1, 4)),)))
    batch = np.ones((2, 4))

    assert convert(batch) is batch


def test_tensor_conversions_and_refusals() -> None:
    convert = input_converter(Schema(tensors=(TensorSpec("float32", (-1, 2)),)))

    assert convert([[1, 2]]).dtype == np.float32  # int -> float
    assert convert(np.array([1.0, 2.0], dtype="float32")).shape == (1, 2)  # one example
    assert convert(pd.DataFrame({"a": [1.0], "b": [2.0]}).astype("float32")).shape == (1, 2)
    with pytest.raises(InvalidArgument, match=r"expects shape \[-1, 2\].*got \[1, 3\]"):
        convert(np.zeros((1, 3), dtype="float32"))
    with pytest.raises(InvalidArgument, match="expects float32, got float64: converting would"):
        convert(np.zeros((1, 2)))
    ints = input_converter(Schema(tensors=(TensorSpec("int64", (-1,)),)))
    with pytest.raises(InvalidArgument, match="expects int64, got float64"):
        ints(np.array([1.5]))


def test_named_tensors_need_a_dict_with_each_name() -> None:
    schema = Schema(tensors=(TensorSpec("float32", (-1, 2), "x"), TensorSpec("int64", (-1,), "k")))
    convert = input_converter(schema)

    result = convert({"x": np.zeros((1, 2), "float32"), "k": np.array([1])})
    assert set(result) == {"x", "k"}
    with pytest.raises(InvalidArgument, match=r"missing input tensor\(s\) \['k'\]"):
        convert({"x": np.zeros((1, 2), "float32")})
    with pytest.raises(InvalidArgument, match="pass a dict of arrays"):
        convert(np.zeros((1, 2)))


def test_params_get_defaults_and_are_checked() -> None:
    convert = params_converter((ParamSpec("threshold", "double", 0.5), ParamSpec("k", "long", 3)))

    assert convert(None) == {"threshold": 0.5, "k": 3}
    assert convert({"threshold": 1}) == {"threshold": 1.0, "k": 3}
    with pytest.raises(InvalidArgument, match=r"unknown param\(s\) \['t'\]; this model takes"):
        convert({"t": 1})
    with pytest.raises(InvalidArgument, match="param 'k' expects long, got float"):
        convert({"k": 1.5})
    with pytest.raises(InvalidArgument, match="unknown param"):
        params_converter(())({"anything": 1})
