"""scikit-learn models: save, log into a run, load back natively and through predict."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import heron
from heron.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from heron.models import MANIFEST_FILE, EnvironmentMismatchWarning, read_manifest
from model_extras import require

require("skops", "sklearn")
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.random(80) * 100, "age": rng.integers(18, 90, 80)})
    return frame, (frame["amount"] > 50).to_numpy().astype(int)


@pytest.fixture
def pipeline(data: tuple[pd.DataFrame, np.ndarray]) -> object:
    frame, labels = data
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[heron.Client]:
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'heron.db'}"
    heron.set_tracking_uri(uri)
    client = heron.Client(uri)
    yield client
    while heron.active_run():
        heron.end_run()
    heron.set_tracking_uri(None)
    client.close()


def test_round_trip_predicts_like_the_estimator(
    pipeline: object, data: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    frame, _ = data
    heron.sklearn.save_model(pipeline, tmp_path / "m", input_example=frame[:5])

    model = heron.models.load(tmp_path / "m")
    native = heron.sklearn.load_model(tmp_path / "m")

    expected = pipeline.predict(frame)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(model.predict(frame), expected)
    np.testing.assert_array_equal(native.predict(frame), expected)
    assert model.flavor == "sklearn"
    assert [c.name for c in model.signature.inputs.columns] == ["amount", "age"]  # type: ignore[union-attr]
    assert model.signature.outputs.tensors[0].dtype == "int64"  # type: ignore[union-attr]
    pd.testing.assert_frame_equal(model.input_example, frame[:5].reset_index(drop=True))
    # list of records and dict-of-arrays go through the same checks
    records = frame[:2].to_dict(orient="records")
    np.testing.assert_array_equal(model.predict(records), expected[:2])
    with pytest.raises(InvalidArgument, match=r"missing required column.*'age' \(long\)"):
        model.predict({"amount": [3.0]})


def test_environment_is_recorded_and_written(pipeline: object, tmp_path: Path) -> None:
    manifest = heron.sklearn.save_model(pipeline, tmp_path / "m")
    import sklearn

    packages = manifest.environment["packages"]
    assert packages["scikit-learn"] == sklearn.__version__
    assert "skops" in packages
    assert "numpy" in packages
    assert manifest.environment["python"].count(".") == 2
    requirements = (tmp_path / "m" / "requirements.txt").read_text()
    assert f"scikit-learn=={sklearn.__version__}" in requirements.splitlines()
    python_env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert python_env["dependencies"] == ["-r requirements.txt"]


def test_training_script_imports_and_git_commit_are_recorded(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = tmp_path / "repo"
    repo.mkdir()
    script = repo / "train.py"
    script.write_text(
        "import sys, numpy as np, yaml\nfrom sklearn.linear_model import LinearRegression\n"
        "import heron\n"
        "m = LinearRegression().fit(np.eye(3), [1, 2, 3])\n"
        "heron.sklearn.save_model(m, sys.argv[1])\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    (repo / "train.py").write_text(script.read_text() + "# changed\n")
    subprocess.run([sys.executable, str(script), str(tmp_path / "m")], check=True)

    environment = read_manifest(tmp_path / "m").environment
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
    assert environment["git"] == {"commit": head.stdout.strip(), "dirty": True}
    assert "PyYAML" in environment["packages"]  # imported by the script, not the flavor


def test_loading_warns_precisely_when_versions_differ(pipeline: object, tmp_path: Path) -> None:
    heron.sklearn.save_model(pipeline, tmp_path / "m")
    manifest_path = tmp_path / "m" / MANIFEST_FILE
    raw = yaml.safe_load(manifest_path.read_text())
    raw["environment"]["packages"]["scikit-learn"] = "0.0.1"
    raw["environment"]["packages"]["not-a-real-package"] = "1.0"
    manifest_path.write_text(yaml.safe_dump(raw, sort_keys=False))

    with pytest.warns(EnvironmentMismatchWarning) as caught:
        heron.models.load(tmp_path / "m")

    message = str(caught[0].message)
    assert "scikit-learn==0.0.1 recorded" in message
    assert "not-a-real-package==1.0 recorded, not installed" in message


def test_pickle_needs_an_opt_in_to_save_and_to_load(pipeline: object, tmp_path: Path) -> None:
    for serialization in ("pickle", "joblib"):
        path = tmp_path / serialization
        heron.sklearn.save_model(pipeline, path, serialization=serialization)
        assert read_manifest(path).flavors["sklearn"]["serialization"] == serialization
        with pytest.raises(PermissionDenied, match=r"runs arbitrary code.*allow_pickle=True"):
            heron.models.load(path)
        one_row = pd.DataFrame({"amount": [1.0], "age": [20]})
        assert heron.models.load(path, allow_pickle=True).predict(one_row).shape == (1,)
    with pytest.raises(InvalidArgument, match="serialization must be one of"):
        heron.sklearn.save_model(pipeline, tmp_path / "x", serialization="marshal")


def test_predict_method_is_chosen_at_save(pipeline: object, tmp_path: Path) -> None:
    heron.sklearn.save_model(pipeline, tmp_path / "m", predict_method="predict_proba")
    frame = pd.DataFrame({"amount": [10.0, 90.0], "age": [30, 40]})

    assert heron.models.load(tmp_path / "m").predict(frame).shape == (2, 2)
    with pytest.raises(InvalidArgument, match="predict_method 'fit'"):
        heron.sklearn.save_model(pipeline, tmp_path / "n", predict_method="fit")


def test_tree_models_load_without_extra_trust(tmp_path: Path) -> None:
    features = np.random.default_rng(1).random((40, 3))
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(
        features, features[:, 0] > 0.5
    )
    heron.sklearn.save_model(forest, tmp_path / "m", input_example=features[:2])

    model = heron.models.load(tmp_path / "m")

    np.testing.assert_array_equal(model.predict(features), forest.predict(features))
    assert model.predict(features[:1].tolist()).shape == (1,)  # lists become arrays


def test_save_refuses_a_folder_with_files(pipeline: object, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x").write_text("x")
    with pytest.raises(AlreadyExists, match="already exists and is not empty"):
        heron.sklearn.save_model(pipeline, tmp_path / "m")
    with pytest.raises(NotFound, match="no model at"):
        heron.models.load(tmp_path / "missing")


def test_log_model_into_the_active_run_and_load_by_runs_uri(
    pipeline: object, data: tuple[pd.DataFrame, np.ndarray], tracking: heron.Client
) -> None:
    frame, _ = data
    with heron.start_run() as run:
        info = heron.sklearn.log_model(pipeline, name="model", input_example=frame[:3])

    assert info.model_uri == f"runs:/{run.id}/model"
    assert (info.run_id, info.artifact_path, info.flavors) == (run.id, "model", ["sklearn"])
    assert info.signature_summary == "(amount: double, age: long) -> int64[-1]"
    files = {f.path for f in tracking.list_artifacts(run.id, "model")}
    assert f"model/{MANIFEST_FILE}" in files
    model = heron.models.load(info.model_uri)
    np.testing.assert_array_equal(model.predict(frame), pipeline.predict(frame))  # type: ignore[attr-defined]


def test_log_model_to_a_given_run_with_a_client(
    pipeline: object, tracking: heron.Client, tmp_path: Path
) -> None:
    run = tracking.create_run()
    info = heron.sklearn.log_model(pipeline, "models/fraud", run_id=run.id, client=tracking)
    by_uri = heron.models.load(f"runs:/{run.id}/models/fraud", client=tracking)
    file_uri = tracking.download_artifacts(run.id, "models/fraud", tmp_path / "dl")

    assert info.model_uri == f"runs:/{run.id}/models/fraud"
    assert by_uri.flavor == "sklearn"
    assert heron.models.load(f"file://{file_uri}").flavor == "sklearn"
    # without a client, the current tracking URI's client is used
    assert heron.models.load(info.model_uri).flavor == "sklearn"


def test_log_model_without_a_run_says_how_to_fix_it(
    pipeline: object, tracking: heron.Client
) -> None:
    with pytest.raises(InvalidArgument, match=r"no active run.*heron.start_run\(\)"):
        heron.sklearn.log_model(pipeline)
    with pytest.raises(InvalidArgument, match="must be a relative artifact path"):
        heron.sklearn.log_model(pipeline, name="../x", run_id="abc")
    with pytest.raises(InvalidArgument, match="unsupported model URI"):
        heron.models.load("s3://bucket/model")
    with pytest.raises(InvalidArgument, match="has no run id"):
        heron.models.load("runs:/")
