"""MLflow model directories, written by the real ``mlflow`` package, load in Heron and
convert to the Heron format."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import heron
from heron.cli.main import app
from heron.errors import InvalidArgument, PermissionDenied
from heron.models import MANIFEST_FILE, read_manifest
from model_extras import require

runner = CliRunner(env={"COLUMNS": "200", "HERON_TRACKING_URI": None})
FRAME = pd.DataFrame(np.random.default_rng(3).random((40, 3)), columns=["a", "b", "c"])
LABELS = (FRAME["a"] > 0.5).astype(int)


@pytest.fixture(scope="module")
def mlflow() -> Iterator[Any]:
    with warnings.catch_warnings():
        # MLflow's own import and save paths emit UserWarnings about type hints and
        # pip versions; they are MLflow's, not what these tests check.
        warnings.simplefilter("ignore")
        module = require("mlflow", "dev")
        import mlflow.pyfunc  # noqa: F401

        yield module


@pytest.fixture(scope="module")
def saved(mlflow: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require("xgboost", "xgboost")
    require("lightgbm", "lightgbm")
    import lightgbm as lgb
    import mlflow.lightgbm
    import mlflow.sklearn
    import mlflow.xgboost
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("mlflow-models")
    paths = {name: root / name for name in ("sk", "sknumpy", "skpickle", "xgb", "lgb", "py")}
    sk = LogisticRegression().fit(FRAME, LABELS)

    class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc, name-defined]
        def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
            return model_input["a"] * 2

    # Explicit requirements: MLflow otherwise infers them by loading each model in a
    # subprocess, which is most of this fixture's time.
    pins = [f"mlflow=={mlflow.__version__}"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(sk, paths["sk"], input_example=FRAME[:3], pip_requirements=pins)
        mlflow.sklearn.save_model(
            sk, paths["skpickle"], serialization_format="cloudpickle", pip_requirements=pins
        )
        mlflow.sklearn.save_model(
            LogisticRegression().fit(FRAME.to_numpy(), LABELS),
            paths["sknumpy"],
            input_example=FRAME.to_numpy()[:2],
            pip_requirements=pins,
        )
        mlflow.xgboost.save_model(
            xgb.XGBClassifier(n_estimators=3).fit(FRAME, LABELS),
            paths["xgb"],
            input_example=FRAME[:3],
        )
        mlflow.lightgbm.save_model(
            lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(FRAME, LABELS),
            paths["lgb"],
            input_example=FRAME[:3],
            pip_requirements=pins,
        )
        mlflow.pyfunc.save_model(
            paths["py"], python_model=Doubler(), input_example=FRAME[:3], pip_requirements=pins
        )
    return paths


def _mlflow_predict(mlflow: Any, path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mlflow.pyfunc.load_model(str(path)).predict(FRAME)


@pytest.mark.parametrize(
    ("key", "flavor"), [("sk", "sklearn"), ("xgb", "xgboost"), ("lgb", "lightgbm")]
)
def test_mlflow_flavors_predict_as_in_mlflow(
    mlflow: Any, saved: dict[str, Path], key: str, flavor: str
) -> None:
    model = heron.models.load(saved[key])

    assert model.flavor == flavor
    assert [c.name for c in model.signature.inputs.columns] == ["a", "b", "c"]  # type: ignore[union-attr]
    assert model.environment["packages"]["mlflow"] == mlflow.__version__
    np.testing.assert_array_equal(
        np.asarray(model.predict(FRAME)), np.asarray(_mlflow_predict(mlflow, saved[key]))
    )
    with pytest.raises(InvalidArgument, match=r"missing required column\(s\): 'c' \(double\)"):
        model.predict(FRAME[["a", "b"]])


def test_pickled_mlflow_models_need_the_callers_opt_in(mlflow: Any, saved: dict[str, Path]) -> None:
    for key in ("skpickle", "py"):
        with pytest.raises(PermissionDenied, match="allow_pickle=True"):
            heron.models.load(saved[key])
    sk = heron.models.load(saved["skpickle"], allow_pickle=True)
    py = heron.models.load(saved["py"], allow_pickle=True)

    np.testing.assert_array_equal(sk.predict(FRAME), _mlflow_predict(mlflow, saved["sk"]))
    pd.testing.assert_series_equal(py.predict(FRAME), FRAME["a"] * 2)


def test_convert_writes_a_verified_heron_model_mlflow_still_loads(
    mlflow: Any, saved: dict[str, Path], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["models", "convert", str(saved["sk"]), str(tmp_path / "h")])

    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    assert "sklearn" in result.output
    manifest = read_manifest(tmp_path / "h")
    assert {"model.skops", "MLmodel", "requirements.txt"} <= set(manifest.files)
    converted = heron.models.load(tmp_path / "h")
    np.testing.assert_array_equal(converted.predict(FRAME), _mlflow_predict(mlflow, saved["sk"]))
    pd.testing.assert_frame_equal(converted.input_example, FRAME[:3])
    np.testing.assert_array_equal(
        _mlflow_predict(mlflow, tmp_path / "h"), _mlflow_predict(mlflow, saved["sk"])
    )
    (tmp_path / "h" / "model.skops").write_bytes(b"tampered")
    with pytest.raises(Exception, match="does not match the SHA-256"):
        heron.models.load(tmp_path / "h")


def test_tensor_signatures_and_array_examples_convert(
    mlflow: Any, saved: dict[str, Path], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["models", "convert", str(saved["sknumpy"]), str(tmp_path / "h")])

    assert result.exit_code == 0, result.output
    model = heron.models.load(tmp_path / "h")
    assert model.signature.inputs.tensors[0].describe() == "float64[-1, 3]"  # type: ignore[union-attr]
    np.testing.assert_array_equal(model.input_example, FRAME.to_numpy()[:2])
    np.testing.assert_array_equal(
        model.predict(FRAME.to_numpy()), _mlflow_predict(mlflow, saved["sknumpy"])
    )


def test_convert_a_pickled_model_needs_allow_pickle(saved: dict[str, Path], tmp_path: Path) -> None:
    refused = runner.invoke(app, ["models", "convert", str(saved["py"]), str(tmp_path / "a")])
    allowed = runner.invoke(
        app, ["models", "convert", str(saved["py"]), str(tmp_path / "b.tar.gz"), "--allow-pickle"]
    )

    assert refused.exit_code == 6, refused.output  # PermissionDenied
    assert "allow_pickle" in refused.output
    assert not (tmp_path / "a").exists() or not (tmp_path / "a" / MANIFEST_FILE).exists()
    assert allowed.exit_code == 0, allowed.output
    model = heron.models.load(tmp_path / "b.tar.gz", allow_pickle=True)
    pd.testing.assert_series_equal(model.predict(FRAME), FRAME["a"] * 2)


def test_an_unsupported_mlflow_flavor_is_named(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: evil.module\n  h2o: {}\n"
    )

    with pytest.raises(InvalidArgument, match=r"flavors \['h2o', 'python_function'\]"):
        heron.models.load(tmp_path)


def test_inspect_and_env_read_an_mlflow_model(
    mlflow: Any, saved: dict[str, Path], tmp_path: Path
) -> None:
    inspected = runner.invoke(app, ["models", "inspect", str(saved["xgb"]), "--json"])
    env = runner.invoke(app, ["models", "env", str(saved["xgb"]), "-o", str(tmp_path)])

    assert inspected.exit_code == 0, inspected.output
    data = json.loads(inspected.output)
    assert (data["format"], data["flavor"]) == ("mlflow", "xgboost")
    assert data["files"].startswith("not recorded")
    assert data["metadata"]["mlflow"]["mlflow_version"] == mlflow.__version__
    assert env.exit_code == 0, env.output
    assert f"mlflow=={mlflow.__version__}" in (tmp_path / "requirements.txt").read_text()
