"""MLflow's own client, unchanged, registering and loading models on a Heron server."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from heron.client import Client
from heron.entities.registry import Role
from heron.store import SqlTrackingStore, ViewType
from heron.store.sql_logged_models import SqlLoggedModelStore
from live_server import LiveServer
from mlflow_server import mlflow_pointed_at, running_server

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

FEATURES = np.random.default_rng(0).random((60, 3))
LABELS = (FEATURES[:, 0] + FEATURES[:, 1] > 1.0).astype(int)
# Naming the requirements skips MLflow's inference of them (a subprocess that imports
# the model, seconds per call); everything else is what users call.
REQUIREMENTS = ["scikit-learn"]

# MLflow warns about its own type hints while logging a model; not Heron's to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from running_server(tmp_path_factory)


@pytest.fixture
def client(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    for url in mlflow_pointed_at(server.url, monkeypatch):
        yield MlflowClient(url)


def _log_sklearn_model(experiment: str) -> tuple[LogisticRegression, str]:
    model = LogisticRegression().fit(FEATURES, LABELS)
    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model", pip_requirements=REQUIREMENTS)
    return model, run.info.run_id


def _heron_model_run(heron: Client, tmp_path: Path) -> str:
    """A run holding an MLflow model folder, logged with Heron's client."""
    run = heron.create_run(heron.get_or_create_experiment("heron-side").id)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    heron.log_artifacts(run.id, folder, "model")
    return run.id


@pytest.mark.slow
def test_log_register_alias_and_load_returns_the_same_predictions(
    client: MlflowClient, server: LiveServer
) -> None:
    model, run_id = _log_sklearn_model("registry-roundtrip")
    version = mlflow.register_model(f"runs:/{run_id}/model", "churn")
    assert version.version == "1"
    assert version.run_id == run_id
    assert version.source.startswith("models:/m-")
    client.set_registered_model_alias("churn", "champion", version.version)

    loaded = mlflow.pyfunc.load_model("models:/churn@champion")
    np.testing.assert_array_equal(loaded.predict(FEATURES), model.predict(FEATURES))

    by_alias = client.get_model_version_by_alias("churn", "champion")
    assert by_alias.version == "1"
    assert by_alias.aliases == ["champion"]
    assert by_alias.current_stage == "None"
    assert by_alias.status == "READY"
    assert by_alias.user_id == "anonymous"

    # The same version through Heron's own client.
    heron = Client(server.url)
    assert heron.get_registered_model("churn").aliases == {"champion": 1}
    seen = heron.get_model_version_by_uri("models:/churn@champion")
    assert (seen.version, seen.run_id, seen.source) == (1, run_id, version.source)
    heron.close()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:`y_pred` was renamed:FutureWarning")
def test_sklearn_autolog_logs_a_model_that_registers_and_loads(client: MlflowClient) -> None:
    mlflow.set_experiment("autolog-models")
    mlflow.sklearn.autolog()  # log_models=True by default
    try:
        with mlflow.start_run() as run:
            model = LogisticRegression().fit(FEATURES, LABELS)
    finally:
        mlflow.sklearn.autolog(disable=True)

    logged = mlflow.last_logged_model()
    assert logged is not None
    assert logged.source_run_id == run.info.run_id
    assert logged.status == "READY"
    outputs = client.get_run(run.info.run_id).outputs
    assert [o.model_id for o in outputs.model_outputs] == [logged.model_id]
    version = mlflow.register_model(f"models:/{logged.model_id}", "autologged")
    loaded = mlflow.pyfunc.load_model(f"models:/autologged/{version.version}")
    np.testing.assert_array_equal(loaded.predict(FEATURES), model.predict(FEATURES))


def test_logged_models_are_searchable_with_tags_and_params(client: MlflowClient) -> None:
    experiment_id = client.create_experiment("logged-models-search")
    for index in range(3):
        client.create_logged_model(
            experiment_id,
            name=f"candidate-{index}",
            params={"depth": str(index)},
            tags={"team": "fraud" if index else "risk"},
            model_type="classifier",
        )
    fraud = client.search_logged_models(
        [experiment_id], filter_string="tags.team = 'fraud'", order_by=[{"field_name": "name"}]
    )
    assert [m.name for m in fraud] == ["candidate-1", "candidate-2"]
    assert fraud[0].params == {"depth": "1"}
    assert fraud[0].status == "PENDING"
    first_page = client.search_logged_models([experiment_id], max_results=2)
    rest = client.search_logged_models([experiment_id], max_results=2, page_token=first_page.token)
    names = [m.name for m in [*first_page, *rest]]
    assert sorted(names) == ["candidate-0", "candidate-1", "candidate-2"]
    assert rest.token is None

    model = fraud[0]
    client.set_logged_model_tags(model.model_id, {"reviewed": "yes"})
    client.delete_logged_model_tag(model.model_id, "team")
    assert client.get_logged_model(model.model_id).tags == {"reviewed": "yes"}
    client.delete_logged_model(model.model_id)
    with pytest.raises(MlflowException) as error:
        client.get_logged_model(model.model_id)
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_registry_search_filters_and_pages(
    client: MlflowClient, server: LiveServer, tmp_path: Path
) -> None:
    heron = Client(server.url)
    run_id = _heron_model_run(heron, tmp_path)
    names = [f"search-{i}" for i in range(5)]
    for name in names:
        client.create_registered_model(name, tags={"team": "ads" if name < "search-3" else "x"})
        client.create_model_version(name, f"runs:/{run_id}/model", run_id)

    ads = client.search_registered_models("tags.team = 'ads'", order_by=["name DESC"])
    assert [m.name for m in ads] == ["search-2", "search-1", "search-0"]
    assert ads[0].latest_versions[0].version == "1"
    assert ads[0].aliases == {}

    seen = []
    page = client.search_registered_models("name LIKE 'search-%'", max_results=2)
    while True:
        seen.extend(m.name for m in page)
        if not page.token:
            break
        page = client.search_registered_models(
            "name LIKE 'search-%'", max_results=2, page_token=page.token
        )
    assert sorted(seen) == names

    versions = mlflow.search_model_versions(filter_string=f"run_id = '{run_id}'")
    assert sorted(v.name for v in versions) == names
    assert {v.source for v in versions} == {f"runs:/{run_id}/model"}
    heron.close()


# Stages are deprecated in MLflow, still used by many teams: Heron serves them.
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_stage_transitions_archive_the_previous_production_version(
    client: MlflowClient, server: LiveServer, tmp_path: Path
) -> None:
    heron = Client(server.url)
    run_id = _heron_model_run(heron, tmp_path)
    client.create_registered_model("staged")
    for _ in range(3):
        client.create_model_version("staged", f"runs:/{run_id}/model", run_id)
    client.transition_model_version_stage("staged", "1", "Production")
    client.transition_model_version_stage("staged", "2", "Staging")
    moved = client.transition_model_version_stage(
        "staged", "3", "production", archive_existing_versions=True
    )
    assert moved.current_stage == "Production"
    stages = {v.version: v.current_stage for v in client.search_model_versions("name='staged'")}
    assert stages == {"1": "Archived", "2": "Staging", "3": "Production"}
    latest = client.get_latest_versions("staged", stages=["Production", "Staging"])
    assert sorted((v.version, v.current_stage) for v in latest) == [
        ("2", "Staging"),
        ("3", "Production"),
    ]
    assert heron.get_model_version("staged", 3).stage.value == "Production"
    heron.close()


def test_models_registered_with_heron_are_seen_by_mlflow(
    client: MlflowClient, server: LiveServer, tmp_path: Path
) -> None:
    heron = Client(server.url, user="ana")
    run_id = _heron_model_run(heron, tmp_path)
    heron.register_model(f"runs:/{run_id}/model", "from-heron")
    heron.set_alias("from-heron", "prod", 1)

    version = client.get_model_version_by_alias("from-heron", "prod")
    assert (version.version, version.run_id, version.user_id) == ("1", run_id, "ana")
    assert client.get_model_version_download_uri("from-heron", "1") == (
        client.get_run(run_id).info.artifact_uri + "/model"
    )
    client.update_model_version("from-heron", "1", description="checked")
    assert heron.get_model_version("from-heron", 1).description == "checked"
    heron.close()


@pytest.mark.filterwarnings("ignore::FutureWarning")  # a stage transition, see above
def test_registry_errors_carry_mlflow_codes(
    client: MlflowClient, server: LiveServer, tmp_path: Path
) -> None:
    heron = Client(server.url, user="root")
    run_id = _heron_model_run(heron, tmp_path)
    heron.register_model(f"runs:/{run_id}/model", "governed")
    heron.grant_role("root", Role.ADMIN)
    heron.set_model_policy("governed", protected_aliases=["champion"])

    calls = {
        "missing model": lambda: client.get_registered_model("no-such-model"),
        "missing version": lambda: client.get_model_version("governed", "9"),
        "missing alias": lambda: client.get_model_version_by_alias("governed", "nope"),
        "bad version": lambda: client.get_model_version("governed", "one"),
        "bad stage": lambda: client.transition_model_version_stage("governed", "1", "Prod!"),
        "empty source": lambda: client.create_model_version("governed", f"runs:/{run_id}/none"),
        "duplicate": lambda: client.create_registered_model("governed"),
        "protected alias": lambda: client.set_registered_model_alias("governed", "champion", "1"),
    }
    codes = {}
    for what, call in calls.items():
        with pytest.raises(MlflowException) as error:
            call()
        codes[what] = error.value.error_code
    assert codes == {
        "missing model": "RESOURCE_DOES_NOT_EXIST",
        "missing version": "RESOURCE_DOES_NOT_EXIST",
        "missing alias": "RESOURCE_DOES_NOT_EXIST",
        "bad version": "INVALID_PARAMETER_VALUE",
        "bad stage": "INVALID_PARAMETER_VALUE",
        "empty source": "INVALID_PARAMETER_VALUE",
        "duplicate": "RESOURCE_ALREADY_EXISTS",
        "protected alias": "PERMISSION_DENIED",
    }
    client.delete_registered_model("governed")
    with pytest.raises(MlflowException) as error:
        client.get_registered_model("governed")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    heron.close()


def test_deleting_a_model_frees_its_name_and_keeps_its_history(
    client: MlflowClient, server: LiveServer, tmp_path: Path
) -> None:
    heron = Client(server.url)
    run_id = _heron_model_run(heron, tmp_path)
    client.create_registered_model("reused-name")
    client.create_model_version("reused-name", f"runs:/{run_id}/model", run_id)
    client.delete_registered_model("reused-name")

    # As on MLflow's server, the name can be registered again at once.
    client.create_registered_model("reused-name", description="second")
    again = client.create_model_version("reused-name", f"runs:/{run_id}/model", run_id)
    assert again.version == "1"
    assert client.get_registered_model("reused-name").description == "second"

    # Heron kept the first model, deleted, under a name that says so, with its audit log.
    kept = heron.search_registered_models(
        "name LIKE 'reused-name (deleted %'", view=ViewType.DELETED_ONLY
    )
    assert [m.lifecycle_stage.value for m in kept.items] == ["deleted"]
    actions = [event.action for event in heron.model_history(kept.items[0].name)]
    assert {"model.create", "version.create", "model.rename", "model.delete"} <= set(actions)
    heron.restore_registered_model(kept.items[0].name)  # Heron's restore still works
    heron.close()


def test_logged_models_keep_checksums_and_metrics_logged_for_them(
    client: MlflowClient, server: LiveServer, tmp_path: Path
) -> None:
    from mlflow.entities import Metric

    experiment_id = client.create_experiment("logged-model-metrics")
    model = client.create_logged_model(experiment_id, name="scored")
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    client.log_model_artifact(model.model_id, str(tmp_path / "MLmodel"))
    listed = httpx.get(
        f"{server.url}/api/2.0/mlflow/logged-models/{model.model_id}/artifacts/directories"
    )
    assert listed.json()["files"][0]["path"] == "MLmodel"
    store_uri = f"sqlite:///{server.folder / 'heron.db'}"
    tracking = SqlTrackingStore(store_uri)
    try:
        checksums = SqlLoggedModelStore(tracking.engines).file_checksums(model.model_id)
    finally:
        tracking.close()
    assert checksums == {"MLmodel": hashlib.sha256(b"flavors: {}\n").hexdigest()}

    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_metric("accuracy", 0.91, step=2, model_id=model.model_id)
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric("f1", 0.8, 1_700_000_000_000, 3, model_id=model.model_id),
                Metric("loss", 0.3, 1_700_000_000_000, 3),  # the run's only
            ],
        )
    linked = client.get_logged_model(model.model_id).metrics
    assert [(m.key, m.value, m.step, m.run_id) for m in linked] == [
        ("accuracy", 0.91, 2, run.info.run_id),
        ("f1", 0.8, 3, run.info.run_id),
    ]
    assert client.get_run(run.info.run_id).data.metrics == {
        "accuracy": 0.91,
        "f1": 0.8,
        "loss": 0.3,
    }
    with pytest.raises(MlflowException) as error:
        client.log_batch(
            run.info.run_id, metrics=[Metric("x", 1.0, 1, 0, model_id="m-" + "0" * 32)]
        )
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
