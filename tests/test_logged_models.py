"""Logged models (MLflow 3) on SQLite and PostgreSQL: the store, the service's rules, and
registering a version from one."""

from __future__ import annotations

import io

import pytest

from heron.entities import LifecycleStage
from heron.entities.logged_model import LoggedModelStatus
from heron.errors import Conflict, InvalidArgument, NotFound, SearchSyntaxError
from heron.services import TrackingService
from heron.services.logged_model_search import SortKey
from heron.services.logged_models import LoggedModelService, is_logged_model_id
from heron.services.registry import RegistryService
from heron.store import SqlRegistryStore, SqlTrackingStore, ViewType
from heron.store.sql_logged_models import SqlLoggedModelStore


@pytest.fixture
def logged(store: SqlTrackingStore, service: TrackingService) -> LoggedModelService:
    return LoggedModelService(SqlLoggedModelStore(store.engines), service)


@pytest.fixture
def registry(
    store: SqlTrackingStore, service: TrackingService, logged: LoggedModelService
) -> RegistryService:
    return RegistryService(SqlRegistryStore(store.engines), service, logged_models=logged)


def _with_files(logged: LoggedModelService, experiment_id: str, run_id: str | None) -> str:
    model = logged.create_logged_model(experiment_id, name="model", source_run_id=run_id)
    logged.write_artifact(model.id, "MLmodel", io.BytesIO(b"flavors: {}\n"))
    logged.write_artifact(model.id, "model.pkl", io.BytesIO(b"weights"))
    logged.finalize_logged_model(model.id, LoggedModelStatus.READY)
    return model.id


def test_a_logged_model_keeps_its_metadata_and_files_under_the_experiment(
    logged: LoggedModelService, service: TrackingService
) -> None:
    experiment = service.create_experiment("e")
    run = service.create_run(experiment.id)
    created = logged.create_logged_model(
        experiment.id,
        name="clf",
        creator="ana",
        source_run_id=run.id,
        model_type="agent",
        tags={"team": "fraud"},
        params={"depth": 3},
    )
    assert is_logged_model_id(created.id)
    assert created.status is LoggedModelStatus.PENDING
    assert created.artifact_location == (
        f"{experiment.artifact_location}/models/{created.id}/artifacts"
    )
    logged.write_artifact(created.id, "sub/MLmodel", io.BytesIO(b"x"))
    ready = logged.finalize_logged_model(created.id, LoggedModelStatus.READY)
    assert ready.status is LoggedModelStatus.READY
    got = logged.get_logged_model(created.id)
    assert (got.name, got.creator, got.model_type, got.source_run_id) == (
        "clf",
        "ana",
        "agent",
        run.id,
    )
    assert (got.tags, got.params) == ({"team": "fraud"}, {"depth": "3"})
    assert [f.path for f in logged.list_artifacts(created.id, "sub")] == ["sub/MLmodel"]
    with logged.open_artifact(created.id, "sub/MLmodel") as stream:
        assert stream.read() == b"x"
    with pytest.raises(InvalidArgument, match="final"):
        logged.write_artifact(created.id, "late.txt", io.BytesIO(b"no"))


def test_tags_params_and_outputs(logged: LoggedModelService, service: TrackingService) -> None:
    experiment = service.create_experiment("e")
    run = service.create_run(experiment.id)
    model = logged.create_logged_model(experiment.id, source_run_id=run.id)
    assert model.name.startswith("model-")
    logged.set_logged_model_tags(model.id, {"a": "1", "b": "2"})
    logged.delete_logged_model_tag(model.id, "a")
    logged.log_logged_model_params(model.id, {"lr": "0.1"})
    logged.log_logged_model_params(model.id, {"lr": "0.1"})  # the same value again: fine
    with pytest.raises(Conflict):
        logged.log_logged_model_params(model.id, {"lr": "0.2"})
    got = logged.get_logged_model(model.id)
    assert (got.tags, got.params) == ({"b": "2"}, {"lr": "0.1"})

    logged.log_outputs(run.id, [(model.id, 5)])
    logged.log_outputs(run.id, [(model.id, 7)])  # logged again at a later step
    assert [(o.model_id, o.step) for o in logged.model_outputs(run.id)] == [(model.id, 7)]
    with pytest.raises(NotFound):
        logged.log_outputs(run.id, [("m-" + "0" * 32, 0)])


def test_search_filters_orders_and_pages(
    logged: LoggedModelService, service: TrackingService
) -> None:
    experiment = service.create_experiment("e")
    other = service.create_experiment("other")
    for index, name in enumerate(["b", "a", "c"]):
        logged.create_logged_model(
            experiment.id, name=name, params={"i": str(index)}, tags={"even": str(index % 2 == 0)}
        )
    logged.create_logged_model(other.id, name="elsewhere")

    found = logged.search_logged_models([experiment.id], "tags.even = 'True'", [SortKey("name")])
    assert [m.name for m in found] == ["b", "c"]
    like = logged.search_logged_models([experiment.id], "name LIKE 'a%' OR params.i = '2'")
    assert sorted(m.name for m in like) == ["a", "c"]
    first = logged.search_logged_models(
        [experiment.id], order_by=[SortKey("name", ascending=False)], max_results=2
    )
    assert [m.name for m in first] == ["c", "b"]
    rest = logged.search_logged_models(
        [experiment.id],
        order_by=[SortKey("name", ascending=False)],
        max_results=2,
        page_token=first.next_page_token,
    )
    assert ([m.name for m in rest], rest.next_page_token) == (["a"], None)
    with pytest.raises(InvalidArgument, match="different query"):
        logged.search_logged_models([experiment.id], page_token=first.next_page_token)
    with pytest.raises(SearchSyntaxError):
        logged.search_logged_models([experiment.id], "metrics.auc > 0.5")

    victim = found.items[0]
    logged.delete_logged_model(victim.id)
    with pytest.raises(NotFound):
        logged.get_logged_model(victim.id)
    assert logged.get_logged_model(victim.id, allow_deleted=True).lifecycle_stage is (
        LifecycleStage.DELETED
    )
    deleted = logged.search_logged_models([experiment.id], view=ViewType.DELETED_ONLY)
    assert [m.id for m in deleted] == [victim.id]


def test_registering_a_logged_model_version(
    registry: RegistryService, logged: LoggedModelService, service: TrackingService
) -> None:
    experiment = service.create_experiment("e")
    run = service.create_run(experiment.id)
    model_id = _with_files(logged, experiment.id, run.id)

    version = registry.register_model(f"models:/{model_id}", "fraud", "ana", run_id=run.id)
    assert (version.source, version.run_id, version.version) == (f"models:/{model_id}", run.id, 1)
    location = logged.get_logged_model(model_id).artifact_location
    assert registry.source_uri("models:/fraud/1") == location

    empty = logged.create_logged_model(experiment.id, source_run_id=run.id)
    with pytest.raises(InvalidArgument, match="holds no model"):
        registry.register_model(f"models:/{empty.id}", "fraud", "ana")
    other_run = service.create_run(experiment.id)
    with pytest.raises(InvalidArgument, match="was logged by run"):
        registry.register_model(f"models:/{model_id}", "fraud", "ana", run_id=other_run.id)
    with pytest.raises(NotFound):
        registry.register_model("models:/m-" + "f" * 32, "fraud", "ana")
    # Run-artifact sources keep their rules: a models:/ URI naming a registered model is
    # not a source.
    with pytest.raises(InvalidArgument):
        registry.register_model("models:/fraud/1", "fraud", "ana")
    assert [v.version for v in registry.search_versions("name = 'fraud'")] == [1]


def test_registry_without_logged_models_refuses_their_sources(
    store: SqlTrackingStore, service: TrackingService, logged: LoggedModelService
) -> None:
    experiment = service.create_experiment("e")
    model_id = _with_files(logged, experiment.id, None)
    plain = RegistryService(SqlRegistryStore(store.engines), service)
    with pytest.raises(InvalidArgument, match="not a runs:/ URI"):
        plain.register_model(f"models:/{model_id}", "fraud", "ana")
