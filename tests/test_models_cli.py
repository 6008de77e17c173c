"""``heron models inspect|env|convert`` on folders, archives and runs:/ URIs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import heron
from heron.cli.main import app
from model_extras import require

runner = CliRunner(env={"COLUMNS": "200", "HERON_TRACKING_URI": None})

require("skops", "sklearn")
from sklearn.linear_model import LinearRegression  # noqa: E402

FEATURES = np.arange(12, dtype="float64").reshape(4, 3)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    model = LinearRegression().fit(FEATURES, [1.0, 2.0, 3.0, 4.0])
    heron.sklearn.save_model(
        model, tmp_path / "model", input_example=FEATURES[:2], metadata={"team": "risk"}
    )
    return tmp_path / "model"


def test_inspect_prints_flavor_signature_environment_and_size(model_dir: Path) -> None:
    result = runner.invoke(app, ["models", "inspect", str(model_dir)])

    assert result.exit_code == 0, result.output
    for expected in (
        "heron (version 1)",
        "sklearn",
        "verified (4 files, SHA-256)",
        "float64",
        "[-1, 3]",
        "scikit-learn",
        "team",
        "KiB",
    ):
        assert expected in result.output, expected


def test_inspect_json_and_a_tampered_model(model_dir: Path) -> None:
    (model_dir / "requirements.txt").write_text("evil==1\n")

    result = runner.invoke(app, ["models", "inspect", str(model_dir), "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["flavor"] == "sklearn"
    assert data["signature_summary"] == "(float64[-1, 3]) -> float64[-1]"
    assert data["files"].startswith("FAILED: 'requirements.txt'")
    assert data["environment"]["packages"]["skops"]
    assert data["metadata"] == {"team": "risk"}
    table = runner.invoke(app, ["models", "inspect", str(model_dir)])
    assert "FAILED" in table.output


def test_inspect_a_logged_model_by_runs_uri(model_dir: Path, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'heron.db'}"
    with heron.Client(uri) as client:
        run = client.create_run()
        client.log_artifacts(run.id, model_dir, "model")

    result = runner.invoke(
        app, ["--tracking-uri", uri, "models", "inspect", f"runs:/{run.id}/model", "--json"]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"] == "verified (4 files, SHA-256)"


def test_env_writes_requirements_and_python_env(model_dir: Path, tmp_path: Path) -> None:
    import sklearn

    result = runner.invoke(app, ["models", "env", str(model_dir), "-o", str(tmp_path / "env")])

    assert result.exit_code == 0, result.output
    requirements = (tmp_path / "env" / "requirements.txt").read_text().splitlines()
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    python_env = yaml.safe_load((tmp_path / "env" / "python_env.yaml").read_text())
    assert python_env["dependencies"] == ["-r requirements.txt"]
    assert "differs here" not in result.output


def test_convert_packs_a_heron_model_and_refuses_overwrites(
    model_dir: Path, tmp_path: Path
) -> None:
    packed = runner.invoke(app, ["models", "convert", str(model_dir), str(tmp_path / "m.zip")])
    again = runner.invoke(app, ["models", "convert", str(model_dir), str(tmp_path / "m.zip")])
    to_folder = runner.invoke(app, ["models", "convert", str(model_dir), str(tmp_path / "copy")])

    assert packed.exit_code == 0, packed.output
    assert heron.models.load(tmp_path / "m.zip").predict(FEATURES).shape == (4,)
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert to_folder.exit_code == 2
    assert "already a Heron model" in to_folder.output


def test_inspect_a_missing_model_exits_not_found(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "inspect", str(tmp_path / "nope")])

    assert result.exit_code == 3
    assert "no model at" in result.output
