"""The model registry's rules, on SQLite and PostgreSQL: versions, aliases, stages, URIs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from heron.entities.registry import ModelVersionStatus, Stage
from heron.errors import AlreadyExists, InvalidArgument, NotFound, SearchSyntaxError
from heron.services import TrackingService
from heron.services.registry import RegistryService
from heron.store import SqlRegistryStore, SqlTrackingStore, ViewType, sql_registry_rows
from registry_helpers import run_with_model


@pytest.fixture
def registry(store: SqlTrackingStore, service: TrackingService) -> RegistryService:
    return RegistryService(SqlRegistryStore(store.engines), service)


def test_register_creates_the_model_and_numbers_versions(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    first = run_with_model(service, tmp_path)
    second = run_with_model(service, tmp_path)
    v1 = registry.register_model(
        f"runs:/{first}/model", "fraud", "alice", description="LR", tags={"owner": "risk"}
    )
    v2 = registry.register_model(f"runs:/{second}/model", "fraud", "bob")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.status is ModelVersionStatus.READY
    assert v1.run_id == first
    assert v1.artifact_path == "model"
    assert v1.created_by == "alice"
    assert v2.created_by == "bob"
    assert v1.tags == {"owner": "risk"}
    assert v1.description == "LR"
    assert v1.signature == "(age: long, income: double) -> score: double"
    model = registry.get_model("fraud")
    assert model.latest_version == 2
    assert model.owner == "alice"


def test_register_accepts_a_uri_inside_the_runs_artifacts(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    run_id = run_with_model(service, tmp_path)
    artifact_uri = service.get_run(run_id).artifact_uri
    version = registry.register_model(f"{artifact_uri}/model", "fraud", "alice", run_id=run_id)
    assert version.artifact_path == "model"
    assert registry.source_uri("models:/fraud/1") == f"runs:/{run_id}/model"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("runs:/{run}/nothing-here", "holds no model"),
        ("runs:/{run}/../other/model", "outside the run's artifacts"),
        ("runs:/{run}/model%2F..%2F..", "percent-encoded"),
        ("runs:/{run}/%2e%2e/model", "percent-encoded"),
        ("file:///etc", "outside the artifacts of run"),
        ("/etc/passwd", "outside the artifacts of run"),
        ("{root}/../../secret", "outside the run's artifacts"),
    ],
)
def test_bad_sources_are_refused_without_partial_state(
    registry: RegistryService,
    service: TrackingService,
    tmp_path: Path,
    source: str,
    message: str,
) -> None:
    run_id = run_with_model(service, tmp_path)
    root = service.get_run(run_id).artifact_uri
    with pytest.raises(InvalidArgument, match=message):
        registry.register_model(
            source.format(run=run_id, root=root), "fraud", "alice", run_id=run_id
        )
    assert registry.search_models().items == []  # not even the model was created


def test_register_from_a_missing_run_is_not_found(registry: RegistryService) -> None:
    with pytest.raises(NotFound):
        registry.register_model("runs:/0123456789abcdef0123456789abcdef/model", "m", "alice")
    assert registry.search_models().items == []


def test_source_needs_its_run(registry: RegistryService) -> None:
    with pytest.raises(InvalidArgument, match="give the run_id"):
        registry.register_model("s3://bucket/model", "m", "alice")


@pytest.mark.parametrize("name", ["", " padded", "a/b", "a@b", "50%", "x" * 257])
def test_model_names_that_cannot_live_in_a_uri_are_refused(
    registry: RegistryService, name: str
) -> None:
    with pytest.raises(InvalidArgument):
        registry.create_model(name, "alice")


def test_model_names_are_unique(registry: RegistryService) -> None:
    registry.create_model("fraud", "alice")
    with pytest.raises(AlreadyExists):
        registry.create_model("fraud", "bob")


def test_aliases_resolve_at_call_time(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    for _ in range(3):
        registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "m", "a")
    registry.set_alias("m", "champion", 1, "alice")
    assert registry.resolve("models:/m@champion").version == 1
    registry.set_alias("m", "champion", 2, "alice")
    assert registry.resolve("models:/m@champion").version == 2
    assert registry.resolve("models:/m/3").version == 3
    assert registry.resolve("models:/m/latest").version == 3
    assert registry.get_version("m", 2).aliases == ("champion",)
    assert registry.get_model("m").aliases == {"champion": 2}
    registry.delete_alias("m", "champion", "alice")
    with pytest.raises(NotFound, match="no alias 'champion'"):
        registry.resolve("models:/m@champion")


def test_resolving_a_uri_is_one_lookup_and_agrees_with_the_full_read(
    registry: RegistryService, service: TrackingService, store: SqlTrackingStore, tmp_path: Path
) -> None:
    # Serving followers resolve URIs on every poll: each round trip costs on PostgreSQL.
    for _ in range(3):
        registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "m", "a")
    registry.set_version_tag("m", 2, "team", "risk", "alice")
    registry.set_alias("m", "champion", 2, "alice")
    registry.set_alias("m", "backup", 2, "alice")
    registry.delete_version("m", 3, "alice")  # latest is then 2
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(store.engines.reader, "before_cursor_execute", count)
    try:
        for uri in ("models:/m@champion", "models:/m/2", "models:/m/latest"):
            statements.clear()
            found = registry.resolve(uri)
            assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 3
            assert found == registry.get_version("m", 2), uri
            assert found.tags == {"team": "risk"}
            assert found.aliases == ("backup", "champion")
    finally:
        event.remove(store.engines.reader, "before_cursor_execute", count)
    with pytest.raises(NotFound, match="version 3 of 'm' is deleted"):
        registry.resolve("models:/m/3")
    registry.delete_model("m", "alice")
    with pytest.raises(NotFound, match="is deleted"):
        registry.resolve("models:/m@champion")


def test_registering_a_version_of_a_known_model_takes_few_statements_and_reads_back_equal(
    registry: RegistryService, service: TrackingService, store: SqlTrackingStore, tmp_path: Path
) -> None:
    """The MLflow route has just read the model; registering then looks the run up once
    (its artifact folder) and returns the version as written, which must be what a read
    returns. On PostgreSQL each statement and each pooled connection is a round trip: a
    registration took 24 statements on 7 connections (28 ms) before."""
    run_id = run_with_model(service, tmp_path)
    model = registry.create_model("fast", "alice")
    statements: list[str] = []
    checkouts: list[object] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def checkout(*args: object) -> None:
        checkouts.append(args)

    engines = {store.engines.reader, store.engines.writer}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
        event.listen(engine.pool, "checkout", checkout)
    try:
        created = registry.register_model(
            f"runs:/{run_id}/model", "fast", "bob", tags={"team": "risk"}, model=model
        )
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
            event.remove(engine.pool, "checkout", checkout)
    assert len(statements) <= 10, statements
    assert len(checkouts) <= 2
    assert created == registry.get_version("fast", 1)
    assert created.tags == {"team": "risk"}
    assert created.created_by == "bob"


def test_a_page_of_versions_keeps_each_versions_own_tags_and_aliases(
    registry: RegistryService,
    service: TrackingService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Tags and aliases are read in chunks of versions (bound-parameter limits): with a
    # chunk of 2, five versions span three chunks.
    monkeypatch.setattr(sql_registry_rows, "_VERSIONS_PER_LOOKUP", 2)
    run_id = run_with_model(service, tmp_path)
    for number in range(1, 6):
        registry.register_model(f"runs:/{run_id}/model", "m", "a", tags={"n": str(number)})
    registry.set_alias("m", "champion", 5, "alice")
    registry.set_alias("m", "baseline", 1, "alice")
    registry.set_alias("m", "backup", 5, "alice")
    page = registry.search_versions("name = 'm'", order_by=["version_number ASC"])
    assert [v.version for v in page.items] == [1, 2, 3, 4, 5]
    assert [v.tags for v in page.items] == [{"n": str(n)} for n in range(1, 6)]
    assert [v.aliases for v in page.items] == [("baseline",), (), (), (), ("backup", "champion")]


@pytest.mark.parametrize(
    "uri", ["models:/m", "models:/m/0", "models:/m/v2", "models:/@x", "runs:/x", "models:/m@"]
)
def test_malformed_model_uris_are_refused(registry: RegistryService, uri: str) -> None:
    with pytest.raises(InvalidArgument):
        registry.resolve(uri)


@pytest.mark.parametrize(
    "alias", ["3", "v3", "V12", "a/b", "a@b", "has space", "latest", "Production", "none", ""]
)
def test_aliases_that_collide_or_break_uris_are_refused(
    registry: RegistryService, service: TrackingService, tmp_path: Path, alias: str
) -> None:
    registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "m", "a")
    with pytest.raises(InvalidArgument):
        registry.set_alias("m", alias, 1, "alice")
    assert registry.get_model("m").aliases == {}


def test_moving_several_aliases_is_all_or_nothing(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    for _ in range(2):
        registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "m", "a")
    registry.move_aliases("m", {"champion": 2, "challenger": 1}, "alice")
    with pytest.raises(NotFound, match="no version 9"):
        registry.move_aliases("m", {"champion": 1, "challenger": 9}, "alice")
    assert registry.get_model("m").aliases == {"champion": 2, "challenger": 1}
    # The rollback case: swap both in one change.
    registry.move_aliases("m", {"champion": 1, "challenger": 2}, "alice")
    assert registry.get_model("m").aliases == {"champion": 1, "challenger": 2}


def test_stages_with_archive_existing(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    for _ in range(3):
        registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "m", "a")
    registry.transition_stage("m", 1, "production", "alice")
    registry.transition_stage("m", 2, "Production", "alice")
    assert registry.get_version("m", 1).stage is Stage.PRODUCTION  # no archiving asked
    registry.transition_stage("m", 3, Stage.PRODUCTION, "alice", archive_existing=True)
    stages = [registry.get_version("m", v).stage for v in (1, 2, 3)]
    assert stages == [Stage.ARCHIVED, Stage.ARCHIVED, Stage.PRODUCTION]
    found = registry.search_versions("stage = 'production'")
    assert [v.version for v in found] == [3]
    with pytest.raises(InvalidArgument, match="unknown stage"):
        registry.transition_stage("m", 1, "Prod", "alice")


def test_deleting_a_version_drops_its_aliases_and_restore_brings_it_back(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    for _ in range(2):
        registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "m", "a")
    registry.set_alias("m", "challenger", 2, "alice")
    registry.delete_version("m", 2, "alice")
    assert registry.get_model("m").aliases == {}
    assert registry.get_model("m").latest_version == 1
    with pytest.raises(NotFound, match="deleted"):
        registry.resolve("models:/m/2")
    with pytest.raises(NotFound, match="deleted"):
        registry.set_alias("m", "challenger", 2, "alice")
    assert [v.version for v in registry.search_versions(view=ViewType.DELETED_ONLY)] == [2]
    registry.restore_version("m", 2, "alice")
    assert registry.resolve("models:/m/latest").version == 2


def test_delete_rename_and_restore_models(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "old", "a")
    registry.rename_model("old", "new", "alice")
    assert registry.resolve("models:/new/1").name == "new"
    with pytest.raises(NotFound):
        registry.get_model("old")
    registry.delete_model("new", "alice")
    assert registry.search_models().items == []
    with pytest.raises(NotFound, match="deleted"):
        registry.resolve("models:/new/1")
    with pytest.raises(InvalidArgument, match="restore it first"):
        registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "new", "a")
    registry.restore_model("new", "alice")
    assert [m.name for m in registry.search_models()] == ["new"]


def test_search_models_with_the_search_language_and_paging(
    registry: RegistryService,
) -> None:
    for index in range(5):
        team = "risk" if index % 2 == 0 else "growth"
        registry.create_model(f"model-{index}", "alice", tags={"team": team})
    risk = registry.search_models("name LIKE 'model-%' AND tags.team = 'risk'")
    assert [m.name for m in risk] == ["model-0", "model-2", "model-4"]
    first = registry.search_models(order_by=["name DESC"], max_results=2)
    assert [m.name for m in first] == ["model-4", "model-3"]
    second = registry.search_models(
        order_by=["name DESC"], max_results=2, page_token=first.next_page_token
    )
    assert [m.name for m in second] == ["model-2", "model-1"]
    with pytest.raises(InvalidArgument, match="different query"):
        registry.search_models(max_results=2, page_token=first.next_page_token)
    with pytest.raises(SearchSyntaxError, match="unknown prefix 'metrics'"):
        registry.search_models("metrics.auc > 1")


def test_search_versions_by_run_and_creation_time(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    runs = [run_with_model(service, tmp_path) for _ in range(3)]
    for run_id in runs:
        registry.register_model(f"runs:/{run_id}/model", "m", "alice")
    found = registry.search_versions(f"run_id = '{runs[1]}'")
    assert [v.version for v in found] == [2]
    created = registry.get_version("m", 1).created_at
    assert len(registry.search_versions(f"name = 'm' AND created_time >= {created}").items) == 3
    assert registry.search_versions("created_time < 0").items == []
    with pytest.raises(SearchSyntaxError, match="numeric"):
        registry.search_versions("version = 'one'")


def test_tags_on_models_and_versions(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "m", "a")
    registry.set_model_tag("m", "owner", "risk", "alice")
    registry.set_version_tag("m", 1, "validated", True, "alice")
    assert registry.get_model("m").tags == {"owner": "risk"}
    assert registry.get_version("m", 1).tags == {"validated": "True"}
    assert [v.version for v in registry.search_versions("tags.validated = 'True'")] == [1]
    registry.delete_version_tag("m", 1, "validated", "alice")
    registry.delete_model_tag("m", "owner", "alice")
    assert registry.get_version("m", 1).tags == {}
    assert registry.get_model("m").tags == {}
