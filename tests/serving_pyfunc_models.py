"""Python models for the scoring-server tests (saved with heron.pyfunc, so in a module)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

import heron.pyfunc


class ScaledSum(heron.pyfunc.PythonModel):
    """Row sums times the ``scale`` param; sleeps ``delay`` seconds per call if asked."""

    def predict(self, model_input: Any, params: Mapping[str, Any] | None = None) -> Any:
        params = params or {}
        delay = float(params.get("delay", 0.0))
        if delay:
            time.sleep(delay)
        return np.asarray(model_input, dtype=np.float64).sum(axis=1) * float(
            params.get("scale", 1.0)
        )


class Constant(heron.pyfunc.PythonModel):
    """The same number for every row (``model_config["value"]``): which version answered
    shows in the output."""

    value = 0.0

    def load_context(self, context: Any) -> None:
        self.value = float(context.model_config.get("value", 0.0))

    def predict(self, model_input: Any, params: Mapping[str, Any] | None = None) -> Any:
        return np.full(len(model_input), self.value)


class Failing(heron.pyfunc.PythonModel):
    """Fails on every input (after warm-up): a broken shadow version."""

    def predict(self, model_input: Any, params: Mapping[str, Any] | None = None) -> Any:
        if len(model_input) and float(np.asarray(model_input).sum()) != 0.0:
            raise RuntimeError("this shadow version is broken")
        return np.zeros(len(model_input))
