"""MLflow's own client, unchanged, tracking runs on a Heron server in a subprocess."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from heron.client import Client
from live_server import LiveServer
from mlflow_server import mlflow_pointed_at, running_server

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from running_server(tmp_path_factory)


@pytest.fixture
def tracking_uri(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from mlflow_pointed_at(server.url, monkeypatch)


@pytest.fixture
def client(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri)


def _new_experiment(client: MlflowClient, request: pytest.FixtureRequest) -> str:
    experiment_id: str = client.create_experiment(f"mlflow-{request.node.name}")
    return experiment_id


def test_fluent_api_logs_a_run_that_reads_back_the_same(tracking_uri: str) -> None:
    mlflow.set_experiment("fluent")
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"depth": 3, "loss": "l2"})
        mlflow.log_metric("loss", 0.9, step=0)
        mlflow.log_metric("loss", 0.4, step=1)
        mlflow.log_metrics({"auc": 0.8, "nan": math.nan})
        mlflow.set_tag("team", "fraud")
        mlflow.set_tags({"stage": "dev"})

    got = MlflowClient().get_run(run.info.run_id)
    assert got.info.run_name == "first"
    assert got.info.status == "FINISHED"
    assert got.info.end_time is not None
    assert got.info.end_time >= got.info.start_time
    assert got.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert got.data.params == {"lr": "0.01", "depth": "3", "loss": "l2"}
    assert got.data.metrics["loss"] == 0.4
    assert got.data.metrics["auc"] == 0.8
    assert math.isnan(got.data.metrics["nan"])
    assert got.data.tags["team"] == "fraud"
    assert got.data.tags["stage"] == "dev"
    assert got.data.tags["mlflow.runName"] == "first"
    assert got.data.tags["mlflow.source.type"] == "LOCAL"
    assert got.data.tags["mlflow.user"] == got.info.user_id != ""


def test_runs_without_an_experiment_go_to_the_default_experiment(tracking_uri: str) -> None:
    run = MlflowClient().create_run("0")
    default = MlflowClient().get_experiment("0")
    assert default.name == "Default"
    assert run.info.experiment_id == default.experiment_id


def test_metric_history_pages_through_every_point(
    client: MlflowClient, request: pytest.FixtureRequest
) -> None:
    run = client.create_run(_new_experiment(client, request))
    points = [Metric("loss", 1.0 / (i + 1), 1_700_000_000_000 + i, i) for i in range(30_000)]
    for start in range(0, len(points), 1000):
        client.log_batch(run.info.run_id, metrics=points[start : start + 1000])

    history = client.get_metric_history(run.info.run_id, "loss")

    assert [m.step for m in history] == list(range(30_000))
    assert history[-1].value == pytest.approx(1 / 30_000)
    assert history[5].timestamp == 1_700_000_000_005


def test_log_batch_stores_metrics_params_and_tags(
    client: MlflowClient, request: pytest.FixtureRequest
) -> None:
    run_id = client.create_run(_new_experiment(client, request)).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("acc", 0.5, 1, 0), Metric("acc", 0.7, 2, 1)],
        params=[Param("k", "v")],
        tags=[RunTag("t", "u"), RunTag("mlflow.runName", "renamed")],
    )
    run = client.get_run(run_id)
    assert run.data.metrics == {"acc": 0.7}
    assert run.data.params == {"k": "v"}
    assert run.data.tags["t"] == "u"
    assert run.info.run_name == "renamed"


def test_search_runs_with_mlflow_filters_order_and_pages(
    client: MlflowClient, request: pytest.FixtureRequest
) -> None:
    experiment_id = _new_experiment(client, request)
    for i in range(7):
        run = client.create_run(experiment_id, run_name=f"run-{i}", tags={"parity": str(i % 2)})
        client.log_metric(run.info.run_id, "score", float(i))
        client.log_param(run.info.run_id, "i", str(i))

    found = client.search_runs(
        [experiment_id],
        filter_string="metrics.score >= 2 and tags.parity = '0'",
        order_by=["metrics.score DESC"],
    )
    assert [r.info.run_name for r in found] == ["run-6", "run-4", "run-2"]

    by_name = client.search_runs([experiment_id], "tags.`mlflow.runName` = 'run-3'")
    assert [r.data.params["i"] for r in by_name] == ["3"]
    by_attribute = client.search_runs([experiment_id], "attributes.run_name LIKE 'run-%'")
    assert len(by_attribute) == 7

    names: list[str] = []
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], order_by=["params.i ASC"], max_results=3, page_token=token
        )
        names.extend(r.info.run_name for r in page)
        token = page.token
        if not token:
            break
    assert names == [f"run-{i}" for i in range(7)]

    frame = mlflow.search_runs([experiment_id], filter_string="params.i IN ('1', '5')")
    assert sorted(frame["params.i"]) == ["1", "5"]


def test_delete_and_restore_runs_and_experiments(
    client: MlflowClient, request: pytest.FixtureRequest
) -> None:
    experiment_id = _new_experiment(client, request)
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment_id]) == []
    deleted = client.search_runs([experiment_id], run_view_type=mlflow.entities.ViewType.ALL)
    assert [r.info.run_id for r in deleted] == [run_id]
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"

    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    client.restore_experiment(experiment_id)
    client.rename_experiment(experiment_id, f"renamed-{request.node.name}")
    client.set_experiment_tag(experiment_id, "owner", "ana")
    experiment = client.get_experiment_by_name(f"renamed-{request.node.name}")
    assert experiment is not None
    assert experiment.experiment_id == experiment_id
    assert experiment.tags == {"owner": "ana"}


def test_search_experiments_with_mlflow_filters_and_order(client: MlflowClient) -> None:
    for name, team in (("search-alpha", "risk"), ("search-beta", "growth"), ("other", "risk")):
        client.create_experiment(name, tags={"team": team})
    assert [e.name for e in client.search_experiments(filter_string="name = 'search-beta'")] == [
        "search-beta"
    ]
    names = {e.name for e in client.search_experiments(filter_string="name LIKE 'search-%'")}
    assert names == {"search-alpha", "search-beta"}
    risk = client.search_experiments(filter_string="tags.team = 'risk'", order_by=["name DESC"])
    assert [e.name for e in risk] == ["search-alpha", "other"]
    newest = mlflow.search_experiments(filter_string="name LIKE 'search-%'", max_results=1)
    assert [e.name for e in newest] == ["search-beta"]  # MLflow's order: newest first

    experiment_id = risk[0].experiment_id
    client.delete_experiment_tag(experiment_id, "team")
    assert client.get_experiment(experiment_id).tags == {}
    with pytest.raises(MlflowException) as error:
        client.delete_experiment_tag(experiment_id, "team")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_missing_resources_are_resource_does_not_exist(client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as run_error:
        client.get_run("0" * 32)
    assert run_error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as experiment_error:
        client.get_experiment("987654")
    assert experiment_error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_experiment_by_name("never-created") is None


def test_bad_input_is_invalid_parameter_value(
    client: MlflowClient, request: pytest.FixtureRequest
) -> None:
    experiment_id = _new_experiment(client, request)
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "lr", "0.1")
    bad_calls = [
        lambda: client.log_param(run_id, "lr", "0.2"),  # params are immutable
        lambda: client.search_runs([experiment_id], "metrics.auc >"),
        lambda: client.search_runs([experiment_id], max_results=50_001),
        lambda: client.create_experiment(f"mlflow-{request.node.name}"),
    ]
    codes = []
    for call in bad_calls:
        with pytest.raises(MlflowException) as error:
            call()
        codes.append(error.value.error_code)
    assert codes == [
        "INVALID_PARAMETER_VALUE",
        "INVALID_PARAMETER_VALUE",
        "INVALID_PARAMETER_VALUE",
        "RESOURCE_ALREADY_EXISTS",
    ]


def test_runs_are_shared_between_mlflow_and_heron_clients(
    server: LiveServer, client: MlflowClient, request: pytest.FixtureRequest
) -> None:
    heron = Client(server.url)
    experiment_id = _new_experiment(client, request)

    with mlflow.start_run(experiment_id=experiment_id, run_name="from-mlflow") as logged:
        mlflow.log_metric("auc", 0.9)
    seen_by_heron = heron.get_run(logged.info.run_id)
    assert seen_by_heron.name == "from-mlflow"
    assert seen_by_heron.metrics == {"auc": 0.9}
    assert seen_by_heron.user == logged.info.user_id
    assert seen_by_heron.source == logged.data.tags["mlflow.source.name"]

    parent = heron.create_run(experiment_id, run_name="from-heron")
    child = heron.create_run(experiment_id, run_name="child", parent_run_id=parent.id)
    heron.log_metric(parent.id, "auc", 0.7)
    seen_by_mlflow = client.get_run(parent.id)
    assert seen_by_mlflow.info.run_name == "from-heron"
    assert seen_by_mlflow.data.metrics == {"auc": 0.7}
    assert seen_by_mlflow.data.tags["mlflow.user"] == parent.user
    children = client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{parent.id}'")
    assert [r.info.run_id for r in children] == [child.id]
    heron.close()


# scikit-learn 1.9 renamed an argument that MLflow 3.17's autologging still passes.
@pytest.mark.filterwarnings("ignore:`y_pred` was renamed:FutureWarning")
@pytest.mark.slow
def test_sklearn_autolog_records_params_metrics_and_plots(tracking_uri: str) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    # Models are off here: test_mlflow_compat_registry.py autologs them.
    mlflow.sklearn.autolog(log_models=False, log_datasets=True)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=300).fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)

    client = MlflowClient()
    logged = client.get_run(run.info.run_id)
    assert logged.data.params["max_iter"] == "300"
    assert logged.data.metrics["training_accuracy_score"] > 0.9
    assert logged.data.tags["estimator_name"] == "LogisticRegression"
    assert {f.path for f in client.list_artifacts(run.info.run_id)} >= {
        "estimator.html",
        "training_confusion_matrix.png",
    }
    assert [d.dataset.source_type for d in logged.inputs.dataset_inputs] == ["code"]
