"""One loaded model version behind the scoring server: its predictor and its warm-up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from heron.models import Model, Signature
from heron.serving.batching import DirectPredictor, MicroBatcher, PredictFn
from heron.serving.fast_sklearn import compile_predictor
from heron.serving.metrics import ServingMetrics
from heron.serving.payloads import ScoringInput
from heron.serving.settings import BatchingSettings

logger = logging.getLogger("heron.serving")

ModelLoader = Callable[[str], Model]


@dataclass(frozen=True)
class ModelSource:
    """Where a served version comes from and the names it answers to."""

    uri: str
    name: str
    version: str

    @classmethod
    def from_uri(cls, uri: str, name: str | None = None) -> ModelSource:
        """``models:/fraud@champion`` is model ``fraud``, version label ``champion``."""
        if uri.startswith("models:/"):
            rest = uri.removeprefix("models:/").strip("/")
            if "@" in rest:
                model, _, version = rest.partition("@")
            else:
                model, _, version = rest.partition("/")
            return cls(uri, name or model, version or "latest")
        tail = uri.rstrip("/").rsplit("/", 1)[-1] or "model"
        return cls(uri, name or tail, "1")


class ServedModel:
    """A model version ready to score: loaded, warmed up, with its own predictor.

    Each version makes one ``predict`` call at a time, on its own thread (or inline on the
    event loop when small and fast, see ``DirectPredictor``): the GIL lets only one
    prediction run at a time in a process anyway, and models that are not thread-safe
    stay safe. Scale with ``--workers`` (processes).
    """

    def __init__(
        self,
        source: ModelSource,
        model: Model,
        batching: BatchingSettings,
        metrics: ServingMetrics,
        *,
        fast_sklearn: bool = True,
    ) -> None:
        self.source = source
        self.model = model
        self.predict_fn = predict_function(model, fast_sklearn)
        # Requests holding this version; a retired version closes when none are left.
        self.active = 0
        self.retired = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"heron-{source.name}")
        rows = metrics.batch_rows.labels(source.version)
        observe: Callable[[int], None] = rows.observe
        if batching.enabled:
            self._predictor: DirectPredictor | MicroBatcher = MicroBatcher(
                self.predict_fn,
                self._executor,
                observe,
                max_batch_size=batching.max_batch_size,
                max_latency_ms=batching.max_latency_ms,
            )
        else:
            self._predictor = DirectPredictor(self.predict_fn, self._executor, observe)

    @property
    def signature(self) -> Signature | None:
        return self.model.signature

    async def predict(self, item: ScoringInput, timeout: float) -> Any:
        return await self._predictor.predict(item, timeout)

    def warm_up(self) -> None:
        """One prediction before readiness, so the first user request pays no lazy set-up."""
        example = warm_up_input(self.model)
        if example is None:
            logger.info("%s: no input example or signature to warm up with", self.source.uri)
            return
        self.predict_fn(example, None)

    def retire(self) -> None:
        self.retired = True

    async def close(self) -> None:
        await self._predictor.close()
        self._executor.shutdown(wait=False, cancel_futures=True)


def predict_function(model: Model, fast_sklearn: bool) -> PredictFn:
    """``model.predict``, or for scikit-learn models that ``fast_sklearn`` compiles, the
    same outputs without scikit-learn's per-call overhead (signature checks still apply;
    requests with params, and inputs the fast path does not cover, go to ``predict``)."""
    if not fast_sklearn or not isinstance(model, Model) or model.flavor != "sklearn":
        return model.predict  # (loaders may hand over Model stand-ins)
    method = str(model.manifest.flavors[model.flavor].get("predict_method", "predict"))
    fast = compile_predictor(model.native, method)
    if fast is None:
        return model.predict
    logger.info("%s: compiled %s.%s", model.path, type(model.native).__name__, method)
    check_input = model.check_input
    predict = model.predict

    def predict_fast(data: Any, params: dict[str, Any] | None) -> Any:
        if not params:
            result = fast(check_input(data))
            if result is not None:
                return result
        return predict(data, params)

    return predict_fast


def warm_up_input(model: Model) -> Any:
    example = model.input_example
    if example is not None:
        return example
    signature = model.signature
    if signature is None:
        return None
    if signature.inputs.is_tensor:
        tensors = {
            spec.name: np.zeros(
                tuple(1 if d == -1 else d for d in spec.shape), dtype=_dtype(spec.dtype)
            )
            for spec in signature.inputs.tensors
        }
        if len(tensors) == 1 and None in tensors:
            return tensors[None]
        return tensors
    import pandas as pd

    from heron.models.signature import COLUMN_TYPES

    zeros = {"string": "", "binary": b"", "boolean": False}
    columns: dict[str, Any] = {}
    for column in signature.inputs.columns:
        if column.type in ("datetime", "array"):
            return None  # no neutral value to invent; the first request warms up instead
        value = zeros.get(column.type, 0)
        columns[column.name] = pd.Series([value], dtype=COLUMN_TYPES[column.type])
    return pd.DataFrame(columns)


def _dtype(name: str) -> Any:
    return {"str": "U1", "bytes": "S1"}.get(name, name)
