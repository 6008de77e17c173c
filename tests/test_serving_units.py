"""The scoring server's pure parts: payload parsing and encoding, V2 tensors, settings,
warm-up inputs, model sources and the traffic table."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest

from heron.errors import InvalidArgument
from heron.models import ColumnSpec, Schema, Signature, TensorSpec
from heron.serving import BatchingSettings, ServingSettings
from heron.serving.inference_v2 import infer_response, model_metadata, parse_infer_request
from heron.serving.payloads import dump_json, jsonable, parse_invocation
from heron.serving.served_model import ModelSource, warm_up_input
from heron.serving.traffic import TrafficTable, sticky_point

TENSOR = Signature(Schema(tensors=(TensorSpec("float64", (-1, 2)),)))
NAMED = Signature(
    Schema(tensors=(TensorSpec("float32", (-1, 2), "image"), TensorSpec("int64", (-1, 1), "mask")))
)
COLUMNS = Signature(Schema(columns=(ColumnSpec("age", "long"), ColumnSpec("name", "string"))))
DATETIMES = Signature(Schema(columns=(ColumnSpec("at", "datetime"),)))


def parse(payload: object, signature: Signature | None) -> object:
    return parse_invocation(orjson.dumps(payload), "application/json", signature)


def test_numeric_rows_reach_a_tensor_model_as_one_numpy_block() -> None:
    item = parse({"dataframe_split": {"data": [[1, 2], [3, 4]]}}, TENSOR)
    assert isinstance(item.data, np.ndarray)  # no pandas round-trip
    assert item.data.shape == (2, 2)
    assert item.rows == 2
    single = parse({"instances": [1.5, 2.5]}, TENSOR)
    assert single.rows == 2  # a 1-D list is a batch of scalars; the model checks the shape


def test_column_models_get_frames_from_every_format() -> None:
    records = parse({"dataframe_records": [{"age": 1, "name": "a"}]}, COLUMNS)
    assert isinstance(records.data, pd.DataFrame)
    mixed = parse({"dataframe_split": {"columns": ["age", "name"], "data": [[1, "a"]]}}, COLUMNS)
    assert mixed.data.to_dict("records") == [{"age": 1, "name": "a"}]
    rows = parse({"instances": [{"age": 1, "name": "a"}]}, COLUMNS)
    assert rows.rows == 1
    with pytest.raises(InvalidArgument, match="rows of 2 values"):
        parse({"inputs": [[1, 2, 3]]}, COLUMNS)
    with pytest.raises(InvalidArgument, match="differ in length"):
        parse({"inputs": {"age": [1, 2], "name": ["a"]}}, COLUMNS)
    no_signature = parse({"dataframe_split": {"columns": ["x"], "data": [[1]]}}, None)
    assert isinstance(no_signature.data, pd.DataFrame)


def test_named_tensors_and_their_mistakes() -> None:
    item = parse({"inputs": {"image": [[1, 2]], "mask": [[1]]}}, NAMED)
    assert set(item.data) == {"image", "mask"}
    with pytest.raises(InvalidArgument, match="one unnamed tensor"):
        parse({"inputs": {"x": [[1, 2]]}}, TENSOR)
    with pytest.raises(InvalidArgument, match="empty object"):
        parse({"inputs": {}}, NAMED)
    with pytest.raises(InvalidArgument, match="not records"):
        parse({"instances": [{"a": 1}]}, TENSOR)
    with pytest.raises(InvalidArgument, match="mixes types"):
        parse({"instances": [[1, "a"], [None, 2]]}, TENSOR)


def test_csv_for_a_tensor_model_is_an_array() -> None:
    item = parse_invocation(b"a,b\n1,2\n3,4\n", "text/csv; charset=utf-8", TENSOR)
    assert isinstance(item.data, np.ndarray)
    assert item.rows == 2


def test_outputs_encode_from_every_shape() -> None:
    frame = pd.DataFrame({"p": [0.1, 0.9], "label": ["a", "b"]})
    assert orjson.loads(dump_json(jsonable(frame))) == [
        {"p": 0.1, "label": "a"},
        {"p": 0.9, "label": "b"},
    ]
    assert orjson.loads(dump_json(jsonable(pd.Series([1, 2])))) == [1, 2]
    assert orjson.loads(dump_json(jsonable({"a": np.array(["x"])}))) == {"a": ["x"]}
    assert orjson.loads(dump_json(jsonable(np.arange(6).reshape(2, 3).T))) == [
        [0, 3],
        [1, 4],
        [2, 5],
    ]
    assert orjson.loads(dump_json([np.float16(1.5), np.int8(3)])) == [1.5, 3]


def test_v2_tensors_in_and_out() -> None:
    request = {
        "parameters": {"content_type": "np"},
        "inputs": [
            {"name": "image", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]},
            {"name": "mask", "shape": [1, 1], "datatype": "INT64", "data": [[1]]},
        ],
    }
    item = parse_infer_request(request, NAMED)
    assert item.data["image"].dtype == np.float32
    assert item.params is None  # transport parameters are not model params
    words = parse_infer_request(
        {"inputs": [{"name": "t", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]}, None
    )
    assert words.data.tolist() == ["a", "b"]
    with pytest.raises(InvalidArgument, match="BYTES but holds"):
        parse_infer_request(
            {"inputs": [{"name": "t", "shape": [1], "datatype": "BYTES", "data": [1]}]}, None
        )
    with pytest.raises(InvalidArgument, match="JSON object"):
        parse_infer_request([], None)
    frame = pd.DataFrame({"p": [0.5], "label": ["yes"]})
    outputs = infer_response(frame, "m", "1", None)["outputs"]
    assert [(o["name"], o["datatype"]) for o in outputs] == [("p", "FP64"), ("label", "BYTES")]
    named = infer_response({"a": [1, 2]}, "m", "1", "id")
    assert named["id"] == "id"
    assert named["outputs"][0]["shape"] == [2]
    series = infer_response(pd.Series([True]), "m", "1", None)
    assert series["outputs"][0]["datatype"] == "BOOL"
    metadata = model_metadata("m", ["1"], "heron_onnx", NAMED)
    assert [i["name"] for i in metadata["inputs"]] == ["image", "mask"]
    assert metadata["outputs"] == []


def test_settings_round_trip_and_refuse_nonsense() -> None:
    settings = ServingSettings(
        "models:/fraud@champion", batching=BatchingSettings(8, 1.0), prediction_log="/tmp/x"
    )
    assert ServingSettings.from_json(settings.to_json()) == settings
    for wrong in (
        {"model_uri": "", "endpoint": None},
        {"model_uri": "m", "endpoint": "e"},
        {"model_uri": "m", "poll_interval_s": 0},
        {"model_uri": "m", "max_queue": 0},
        {"model_uri": "m", "request_timeout_s": 0},
        {"model_uri": "m", "max_body_bytes": 0},
        {"model_uri": "m", "log_sample_rate": 1.5},
    ):
        with pytest.raises(InvalidArgument):
            ServingSettings(**wrong)  # type: ignore[arg-type]


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERON_SERVING_SETTINGS", raising=False)
    with pytest.raises(InvalidArgument, match="heron serve"):
        ServingSettings.from_environment()
    monkeypatch.setenv("HERON_SERVING_SETTINGS", ServingSettings("m").to_json())
    assert ServingSettings.from_environment().model_uri == "m"


def test_model_sources_name_the_model_and_version() -> None:
    assert ModelSource.from_uri("models:/fraud@champion").name == "fraud"
    assert ModelSource.from_uri("models:/fraud@champion").version == "champion"
    assert ModelSource.from_uri("models:/fraud/3").version == "3"
    assert ModelSource.from_uri("runs:/abc/model").name == "model"
    assert ModelSource.from_uri("/srv/models/fraud/", name="x").name == "x"


def test_warm_up_inputs_follow_the_signature() -> None:
    class Stub:
        input_example = None

        def __init__(self, signature: Signature | None) -> None:
            self.signature = signature

    assert warm_up_input(Stub(None)) is None  # type: ignore[arg-type]
    assert warm_up_input(Stub(TENSOR)).shape == (1, 2)  # type: ignore[arg-type]
    named = warm_up_input(Stub(NAMED))  # type: ignore[arg-type]
    assert named["mask"].dtype == np.int64
    frame = warm_up_input(Stub(COLUMNS))  # type: ignore[arg-type]
    assert list(frame.columns) == ["age", "name"]
    assert warm_up_input(Stub(DATETIMES)) is None  # type: ignore[arg-type]


def test_traffic_table_checks_weights_and_hashes_keys_stably() -> None:
    with pytest.raises(InvalidArgument):
        TrafficTable([])
    assert sticky_point("user-1") == sticky_point("user-1")
    assert 0 <= sticky_point("user-2") < 1
