"""Experiments in the metadata store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from heron.entities import LifecycleStage
from heron.errors import AlreadyExists, InvalidArgument, NotFound
from heron.services import TrackingService
from heron.store import ViewType


def test_create_and_get_experiment(service: TrackingService) -> None:
    created = service.create_experiment("fraud", tags={"team": "risk"})
    assert created.name == "fraud"
    assert created.tags == {"team": "risk"}
    assert created.lifecycle_stage is LifecycleStage.ACTIVE
    assert created.artifact_location.endswith(f"/artifacts/{created.id}")
    assert service.get_experiment(created.id) == created
    assert service.get_experiment_by_name("fraud") == created


def test_experiment_names_are_unique(service: TrackingService) -> None:
    service.create_experiment("fraud")
    with pytest.raises(AlreadyExists, match="fraud"):
        service.create_experiment("fraud")


def test_unknown_experiment_is_not_found(service: TrackingService) -> None:
    with pytest.raises(NotFound):
        service.get_experiment("12345")
    with pytest.raises(NotFound):
        service.get_experiment("not-a-number")
    with pytest.raises(NotFound, match="create_experiment"):
        service.get_experiment_by_name("nope")


def test_rename_delete_restore(service: TrackingService) -> None:
    experiment = service.create_experiment("a")
    service.create_experiment("b")
    with pytest.raises(AlreadyExists):
        service.rename_experiment(experiment.id, "b")
    service.rename_experiment(experiment.id, "c")
    assert service.get_experiment(experiment.id).name == "c"

    service.delete_experiment(experiment.id)
    assert service.get_experiment(experiment.id).lifecycle_stage is LifecycleStage.DELETED
    active = [e.name for e in service.search_experiments()]
    deleted = [e.name for e in service.search_experiments(view=ViewType.DELETED_ONLY)]
    assert active == ["b"]
    assert deleted == ["c"]
    with pytest.raises(InvalidArgument, match="deleted"):
        service.create_run(experiment.id)

    service.restore_experiment(experiment.id)
    assert [e.name for e in service.search_experiments()] == ["c", "b"]


def test_deleted_experiment_keeps_its_name(service: TrackingService) -> None:
    experiment = service.create_experiment("x")
    service.delete_experiment(experiment.id)
    with pytest.raises(AlreadyExists, match="restore"):
        service.create_experiment("x")
    with pytest.raises(InvalidArgument, match="restore"):
        service.get_or_create_experiment("x")


def test_experiment_paging(service: TrackingService) -> None:
    names = [f"exp-{i:02d}" for i in range(7)]
    for name in names:
        service.create_experiment(name)
    seen: list[str] = []
    token = None
    while True:
        page = service.search_experiments(max_results=3, page_token=token)
        assert len(page) <= 3
        seen.extend(e.name for e in page)
        token = page.next_page_token
        if token is None:
            break
    assert seen == names
    like = service.search_experiments(name_like="exp-0%")
    assert len(like.items) == 7


def test_experiment_tags_upsert(service: TrackingService) -> None:
    experiment = service.create_experiment("t")
    service.set_experiment_tag(experiment.id, "owner", "ana")
    service.set_experiment_tag(experiment.id, "owner", "bo")
    assert service.get_experiment(experiment.id).tags == {"owner": "bo"}
    with pytest.raises(NotFound):
        service.set_experiment_tag("999", "owner", "x")


def test_invalid_experiment_names(service: TrackingService) -> None:
    for bad in ["", "   ", "x" * 501]:
        with pytest.raises(InvalidArgument):
            service.create_experiment(bad)
