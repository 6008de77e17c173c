"""Models and apps for the scoring-server tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import heron.pyfunc
import heron.sklearn
from asgi import TestClient
from heron.models import Model
from heron.serving import ServingSettings, create_app
from model_extras import require

COLUMNS = ["amount", "age", "score"]


def training_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    features = rng.random((60, 3))
    return features, (features[:, 0] > 0.5).astype(int)


def tensor_model(folder: Path) -> Path:
    """A LogisticRegression saved from numpy: a float64[-1, 3] tensor signature."""
    require("skops", "sklearn")
    from sklearn.linear_model import LogisticRegression

    features, labels = training_data()
    heron.sklearn.save_model(
        LogisticRegression().fit(features, labels), folder, input_example=features[:2]
    )
    return folder


def column_model(folder: Path) -> Path:
    """The same model saved from a DataFrame: a signature of three double columns."""
    require("skops", "sklearn")
    from sklearn.linear_model import LogisticRegression

    features, labels = training_data()
    frame = pd.DataFrame(features, columns=COLUMNS)
    heron.sklearn.save_model(
        LogisticRegression().fit(frame, labels), folder, input_example=frame[:2]
    )
    return folder


def scaled_sum_model(folder: Path) -> Path:
    """A pyfunc model: row sums times the ``scale`` param (default 1.0; ``delay`` sleeps)."""
    from heron.models import ParamSpec, Signature, infer_signature
    from serving_pyfunc_models import ScaledSum

    inputs = infer_signature(np.zeros((1, 3))).inputs
    params = (ParamSpec("scale", "double", 1.0), ParamSpec("delay", "double", 0.0))
    heron.pyfunc.save_model(ScaledSum(), folder, signature=Signature(inputs, params=params))
    return folder


def wait_ready(client: TestClient, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/v2/health/ready").status_code == 200:
            return
        time.sleep(0.02)
    raise AssertionError(f"not ready after {timeout} s: {client.get('/health').text}")


@contextmanager
def serving(settings: ServingSettings, loader: Any = None) -> Iterator[TestClient]:
    with TestClient(create_app(settings, loader)) as client:
        wait_ready(client)
        yield client


class SlowModel:
    """A Model stand-in whose predict sleeps, to fill the queue or pass the timeout."""

    def __init__(self, model: Model, delay: float) -> None:
        self._model = model
        self.delay = delay
        self.signature = model.signature
        self.flavor = model.flavor
        self.input_example = None

    def predict(self, data: Any, params: Any = None) -> Any:
        time.sleep(self.delay)
        return self._model.predict(data, params)


def constant_model(folder: Path, value: float) -> Path:
    """A pyfunc model answering ``value`` for every row of three float64 features."""
    from heron.models import Signature, infer_signature
    from serving_pyfunc_models import Constant

    inputs = infer_signature(np.zeros((1, 3))).inputs
    heron.pyfunc.save_model(
        Constant(), folder, signature=Signature(inputs), model_config={"value": value}
    )
    return folder


def failing_model(folder: Path) -> Path:
    from heron.models import Signature, infer_signature
    from serving_pyfunc_models import Failing

    inputs = infer_signature(np.zeros((1, 3))).inputs
    heron.pyfunc.save_model(Failing(), folder, signature=Signature(inputs))
    return folder
