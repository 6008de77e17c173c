"""The compiled scikit-learn fast path gives scikit-learn's outputs, bit for bit, and
steps aside for whatever it does not cover."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import heron.sklearn
from heron.models import load
from heron.serving import ServingSettings
from heron.serving.fast_sklearn import compile_predictor
from heron.serving.served_model import predict_function
from model_extras import require
from serving_helpers import serving

FEATURES = 6


def training(classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, FEATURES))
    score = x[:, 0] + 0.5 * x[:, 1] - x[:, 2] * x[:, 3]
    if classes == 0:  # regression
        return x, score + rng.normal(scale=0.1, size=len(x))
    edges = np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1])
    return x, np.digitize(score, edges)


def fitted() -> dict[str, tuple[Any, list[str]]]:
    x2, y2 = training(2)
    x3, y3 = training(3)
    xr, yr = training(0)
    labels = np.array(["no", "yes"])[y2]  # string classes come back as strings
    return {
        "logreg-binary": (LogisticRegression().fit(x2, y2), ["predict", "predict_proba"]),
        "logreg-labels": (LogisticRegression().fit(x2, labels), ["predict", "predict_proba"]),
        "logreg-3": (LogisticRegression().fit(x3, y3), ["predict", "predict_proba"]),
        "linear": (LinearRegression().fit(xr, yr), ["predict"]),
        "ridge": (Ridge().fit(xr, yr), ["predict"]),
        "tree": (DecisionTreeClassifier(random_state=0).fit(x3, y3), ["predict", "predict_proba"]),
        "tree-reg": (DecisionTreeRegressor(max_depth=8, random_state=0).fit(xr, yr), ["predict"]),
        "forest": (
            RandomForestClassifier(n_estimators=15, random_state=0).fit(x3, y3),
            ["predict", "predict_proba"],
        ),
        "forest-binary": (
            RandomForestClassifier(n_estimators=10, max_depth=6, random_state=1).fit(x2, labels),
            ["predict", "predict_proba"],
        ),
        "forest-reg": (
            RandomForestRegressor(n_estimators=10, random_state=0).fit(xr, yr),
            ["predict"],
        ),
        "extra": (
            ExtraTreesClassifier(n_estimators=10, random_state=0).fit(x2, y2),
            ["predict", "predict_proba"],
        ),
        "extra-reg": (
            ExtraTreesRegressor(n_estimators=10, random_state=0).fit(xr, yr),
            ["predict"],
        ),
    }


MODELS = fitted()
CASES = [(name, method) for name, (_, methods) in MODELS.items() for method in methods]


def thresholds(estimator: Any) -> np.ndarray:
    trees = getattr(estimator, "estimators_", [estimator])
    values = [t.tree_.threshold[t.tree_.children_left != -1] for t in trees if hasattr(t, "tree_")]
    return np.concatenate(values) if values else np.zeros(1)


@pytest.mark.parametrize(("name", "method"), CASES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 40),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_outputs_equal_scikit_learns_bit_for_bit(
    name: str, method: str, seed: int, rows: int, dtype: Any
) -> None:
    estimator, _ = MODELS[name]
    fast = compile_predictor(estimator, method)
    assert fast is not None
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=rng.choice([0.1, 1.0, 100.0]), size=(rows, FEATURES))
    # Values exactly on split thresholds (float32, as the trees see them), where `<=`
    # against `<` would differ.
    on_split = rng.random(x.shape) < 0.3
    x[on_split] = rng.choice(thresholds(estimator).astype(np.float32), size=int(on_split.sum()))
    x = x.astype(dtype)
    expected = getattr(estimator, method)(x)
    got = fast(x)
    assert got is not None
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["logreg-binary", "forest", "tree-reg"])
def test_unsupported_input_falls_back_to_scikit_learn(name: str) -> None:
    estimator, methods = MODELS[name]
    fast = compile_predictor(estimator, methods[0])
    assert fast is not None
    x = np.zeros((2, FEATURES))
    with_nan = x.copy()
    with_nan[1, 2] = np.nan
    with_inf = x.copy()
    with_inf[0, 0] = np.inf
    for data in (
        with_nan,
        with_inf,
        x.astype(np.int64),  # scikit-learn converts; its conversion applies
        np.zeros((2, FEATURES + 1)),  # its error message applies
        np.zeros(FEATURES),
        x.tolist(),
        pd.DataFrame(x),  # names it was not fitted with: scikit-learn warns
    ):
        assert fast(data) is None


def test_a_frame_with_the_fitted_columns_takes_the_fast_path() -> None:
    x, y = training(2)
    names = [f"f{i}" for i in range(FEATURES)]
    frame = pd.DataFrame(x, columns=names)
    model = LogisticRegression().fit(frame, y)
    fast = compile_predictor(model, "predict_proba")
    assert fast is not None
    np.testing.assert_array_equal(fast(frame[:7]), model.predict_proba(frame[:7]))
    assert fast(frame[names[::-1]]) is None  # another column order: scikit-learn's rules
    assert fast(x[:3]) is None  # no names: scikit-learn's warning


def test_estimators_and_methods_not_compiled_are_left_alone() -> None:
    x, y = training(2)

    class Custom(LogisticRegression):  # type: ignore[misc]  # may predict differently
        pass

    assert compile_predictor(Custom().fit(x, y), "predict") is None
    assert compile_predictor(MODELS["forest"][0], "predict_log_proba") is None
    assert compile_predictor(MODELS["linear"][0], "predict_proba") is None
    assert compile_predictor(LogisticRegression(), "predict") is None  # not fitted
    multi = RandomForestRegressor(n_estimators=3).fit(x, np.c_[y, y])
    assert compile_predictor(multi, "predict") is None


@pytest.fixture(scope="module")
def forest_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("skops", "sklearn")
    folder = tmp_path_factory.mktemp("forest") / "model"
    x, y = training(3)
    heron.sklearn.save_model(
        RandomForestClassifier(n_estimators=8, random_state=0).fit(x, y),
        folder,
        predict_method="predict_proba",
        input_example=x[:2],
    )
    return folder


def test_served_answers_are_scikit_learns_and_the_switch_turns_it_off(forest_folder: Path) -> None:
    model = load(forest_folder)
    rows = np.random.default_rng(5).normal(size=(9, FEATURES))
    expected = model.native.predict_proba(rows)
    fast = predict_function(model, fast_sklearn=True)
    assert fast != model.predict
    assert predict_function(model, fast_sklearn=False) == model.predict
    np.testing.assert_array_equal(fast(rows, None), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for enabled in (True, False):
            settings_ = ServingSettings(str(forest_folder), fast_sklearn=enabled)
            with serving(settings_) as client:
                response = client.post("/invocations", json={"inputs": rows.tolist()})
            assert response.status_code == 200, response.text
            assert response.json() == {"predictions": expected.tolist()}


def test_signature_checks_still_apply_on_the_fast_path(forest_folder: Path) -> None:
    with serving(ServingSettings(str(forest_folder))) as client:
        response = client.post("/invocations", json={"inputs": [[1.0, 2.0]]})
    assert response.status_code == 400
    assert "shape" in response.json()["message"]
