"""ONNX flavor: the ``.onnx`` graph, run with onnxruntime on the CPU.

The native object is the ``onnxruntime.InferenceSession``. Without an input example,
the signature is read from the graph's declared inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from heron.errors import InvalidArgument
from heron.models.flavors import LoadOptions, PredictFn, require
from heron.models.manifest import Manifest
from heron.models.save import finish, prepare_directory
from heron.models.signature import Schema, Signature, TensorSpec

NAME = "onnx"
PACKAGES: tuple[str, ...] = ("onnx", "onnxruntime", "numpy")
DATA_FILE = "model.onnx"
# onnx.TensorProto element types -> numpy dtype names
_ELEMENT_TYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "str", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
}  # fmt: skip


def save_model(
    model: Any,
    path: str | Path,
    *,
    signature: Signature | None = None,
    input_example: Any = None,
    metadata: Mapping[str, Any] | None = None,
    extra_requirements: Iterable[str] = (),
) -> Manifest:
    """``model``: an ``onnx.ModelProto``, the bytes of one, or the path of a .onnx file."""
    onnx = require("onnx", "onnx")
    if isinstance(model, str | Path):
        model = onnx.load(str(model))
    elif isinstance(model, bytes):
        model = onnx.load_from_string(model)
    if not isinstance(model, onnx.ModelProto):
        raise InvalidArgument(f"heron.onnx saves an onnx.ModelProto, not {type(model).__name__}")
    onnx.checker.check_model(model)
    directory = prepare_directory(path)
    onnx.save(model, str(directory / DATA_FILE))
    if signature is None and input_example is None:
        signature = Signature(inputs=_graph_inputs(model))
    config = {"data": DATA_FILE}
    session = load_native(directory, config, LoadOptions())
    predict = predictor(session, config)
    return finish(
        directory,
        flavor=NAME,
        config=config,
        packages=PACKAGES,
        predict=lambda data: predict(data, None),
        signature=signature,
        input_example=input_example,
        metadata=metadata,
        extra_requirements=extra_requirements,
    )


def _graph_inputs(model: Any) -> Schema:
    specs = []
    inputs = list(model.graph.input)
    for graph_input in inputs:
        tensor_type = graph_input.type.tensor_type
        dtype = _ELEMENT_TYPES.get(tensor_type.elem_type, "object")
        shape = tuple(d.dim_value if d.dim_value > 0 else -1 for d in tensor_type.shape.dim)
        specs.append(TensorSpec(dtype, shape, graph_input.name if len(inputs) > 1 else None))
    return Schema(tensors=tuple(specs))


def load_native(path: Path, config: Mapping[str, Any], options: LoadOptions) -> Any:
    ort = require("onnxruntime", "onnx")
    data = path / str(config.get("data", DATA_FILE))
    if not data.resolve().is_relative_to(path.resolve()) or not data.is_file():
        raise InvalidArgument(f"onnx model file {data.name!r} is missing from {path}")
    return ort.InferenceSession(str(data), providers=["CPUExecutionProvider"])


def predictor(native: Any, config: Mapping[str, Any]) -> PredictFn:
    input_names = [i.name for i in native.get_inputs()]
    output_names = [o.name for o in native.get_outputs()]
    run = native.run

    def predict(data: Any, params: Mapping[str, Any] | None) -> Any:
        feed = data if isinstance(data, Mapping) else {input_names[0]: data}
        outputs = run(None, feed)
        if len(outputs) == 1:
            return outputs[0]
        return dict(zip(output_names, outputs, strict=True))

    return predict
