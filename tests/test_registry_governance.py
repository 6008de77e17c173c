"""Governance, audit, concurrency and lineage of the registry, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from heron.entities.registry import ModelVersion, RequestStatus, Role, Stage, TransitionRequest
from heron.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from heron.services import TrackingService
from heron.services.registry import Decision, RegistryService
from heron.store import SqlRegistryStore, SqlTrackingStore
from registry_helpers import run_with_model


@pytest.fixture
def registry(store: SqlTrackingStore, service: TrackingService) -> RegistryService:
    return RegistryService(SqlRegistryStore(store.engines), service)


@pytest.fixture
def governed(registry: RegistryService, service: TrackingService, tmp_path: Path) -> str:
    """Model "fraud" with 3 versions, champion protected; admin "root", approver "carol"."""
    for _ in range(3):
        registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "fraud", "ann")
    registry.grant_role("root", Role.ADMIN, "root")  # the first admin appoints themselves
    registry.grant_role("carol", Role.APPROVER, "root")
    registry.set_alias("fraud", "champion", 1, "ann")
    registry.set_policy("fraud", "root", protected_aliases=["champion", "Production"])
    return "fraud"


def test_a_protected_alias_moves_only_through_an_approved_request(
    registry: RegistryService, governed: str
) -> None:
    with pytest.raises(PermissionDenied, match="protected"):
        registry.set_alias(governed, "champion", 2, "ann")
    assert registry.get_model(governed).aliases["champion"] == 1
    request = registry.request_transition(governed, 2, "champion", "ann", comment="beats v1")
    assert request.status is RequestStatus.OPEN
    assert request.target == "champion"
    assert registry.resolve("models:/fraud@champion").version == 1  # nothing moved yet
    approved = registry.approve(governed, request.id, "carol", comment="reviewed")
    assert approved.status is RequestStatus.APPROVED
    assert approved.resolved_by == "carol"
    assert approved.resolution_comment == "reviewed"
    assert registry.resolve("models:/fraud@champion").version == 2
    with pytest.raises(Conflict, match="already APPROVED"):
        registry.approve(governed, request.id, "carol")


def test_only_approvers_approve_and_not_their_own_request(
    registry: RegistryService, governed: str
) -> None:
    request = registry.request_transition(governed, 2, "champion", "carol")
    with pytest.raises(PermissionDenied, match="approver role"):
        registry.approve(governed, request.id, "ann")
    with pytest.raises(PermissionDenied, match="own request"):
        registry.approve(governed, request.id, "carol")
    registry.set_policy(governed, "root", allow_self_approval=True)
    registry.approve(governed, request.id, "carol")
    assert registry.resolve("models:/fraud@champion").version == 2


def test_reject_and_cancel(registry: RegistryService, governed: str) -> None:
    first = registry.request_transition(governed, 2, "champion", "ann")
    rejected = registry.reject(governed, first.id, "carol", comment="AUC regressed on slice")
    assert rejected.status is RequestStatus.REJECTED
    second = registry.request_transition(governed, 3, "champion", "ann")
    with pytest.raises(PermissionDenied, match="cancel"):
        registry.cancel(governed, second.id, "carol")
    assert registry.cancel(governed, second.id, "ann").status is RequestStatus.CANCELLED
    assert registry.resolve("models:/fraud@champion").version == 1
    assert [r.id for r in registry.list_requests(governed, "rejected")] == [first.id]
    assert registry.list_requests(governed, RequestStatus.OPEN) == []
    with pytest.raises(NotFound):
        registry.approve("other", first.id, "carol")


def test_protected_stage_and_stage_requests(registry: RegistryService, governed: str) -> None:
    with pytest.raises(PermissionDenied, match="stage Production"):
        registry.transition_stage(governed, 2, "Production", "ann")
    registry.transition_stage(governed, 2, "Staging", "ann")  # not protected
    request = registry.request_transition(governed, 3, "production", "ann")
    assert request.target == "stage:Production"
    registry.approve(governed, request.id, "carol")
    assert registry.get_version(governed, 3).stage is Stage.PRODUCTION


def test_a_version_holding_a_protected_alias_cannot_be_deleted(
    registry: RegistryService, governed: str
) -> None:
    with pytest.raises(PermissionDenied, match="protected alias"):
        registry.delete_version(governed, 1, "ann")
    assert registry.resolve("models:/fraud@champion").version == 1


def test_roles_need_an_admin_once_one_exists(registry: RegistryService, governed: str) -> None:
    with pytest.raises(PermissionDenied, match="admin"):
        registry.grant_role("ann", Role.APPROVER, "ann")
    with pytest.raises(PermissionDenied, match="admin"):
        registry.grant_role("ann", Role.ADMIN, "ann")  # no more bootstrap
    with pytest.raises(PermissionDenied):
        registry.set_policy(governed, "carol", protected_aliases=[])
    registry.revoke_role("carol", Role.APPROVER, "root")
    assert registry.roles_of("carol") == set()
    with pytest.raises(InvalidArgument, match="unknown role"):
        registry.grant_role("ann", "superuser", "root")


def test_the_audit_log_records_changes_and_refusals(
    registry: RegistryService, governed: str
) -> None:
    with pytest.raises(PermissionDenied):
        registry.set_alias(governed, "champion", 3, "mallory")
    request = registry.request_transition(governed, 2, "champion", "ann")
    registry.approve(governed, request.id, "carol")
    registry.rename_model(governed, "fraud-detector", "root")
    events = registry.history("fraud-detector")  # the history follows the rename
    actions = [e.action for e in events]
    assert actions[:4] == ["model.create", "version.create", "version.create", "version.create"]
    refused = [e for e in events if e.outcome.startswith("refused")]
    assert [(e.actor, e.action, e.after) for e in refused] == [
        ("mallory", "alias.set", {"champion": 3})
    ]
    moves = [e for e in events if e.action == "alias.set" and e.outcome == "ok"]
    assert [(e.actor, e.before, e.after) for e in moves] == [
        ("ann", {"alias": "champion", "version": None}, {"alias": "champion", "version": 1}),
        ("carol", {"alias": "champion", "version": 1}, {"alias": "champion", "version": 2}),
    ]
    assert events[-1].action == "model.rename"
    assert events[-1].before == {"name": "fraud"}
    assert events[-1].after == {"name": "fraud-detector"}
    assert all(e.at > 0 for e in events)
    everything = registry.history()
    assert any(
        e.action == "role.grant" and e.after == {"user": "carol", "role": "approver", "held": True}
        for e in everything
    )


def test_concurrent_alias_moves_one_wins_and_both_are_audited(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    for _ in range(3):
        registry.register_model(f"runs:/{run_with_model(service, tmp_path)}/model", "m", "ann")
    registry.set_alias("m", "challenger", 1, "ann")
    revision = registry.get_model("m").label_revision
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def move(actor: str, version: int) -> None:
        barrier.wait()
        try:
            registry.set_alias("m", "challenger", version, actor, expected_revision=revision)
            outcomes[actor] = "won"
        except Conflict:
            outcomes[actor] = "lost"

    threads = [threading.Thread(target=move, args=(a, v)) for a, v in (("bo", 2), ("cy", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(a for a, o in outcomes.items() if o == "won")
    assert registry.get_model("m").aliases["challenger"] == {"bo": 2, "cy": 3}[winner]
    attempts = [e for e in registry.history("m") if e.actor in ("bo", "cy")]
    assert sorted((e.actor, e.outcome.split(":")[0]) for e in attempts) == sorted(
        [(winner, "ok"), ({"bo": "cy", "cy": "bo"}[winner], "refused")]
    )


def test_concurrent_registrations_get_distinct_versions(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    runs = [run_with_model(service, tmp_path) for _ in range(6)]
    registry.create_model("m", "ann")
    versions: list[int] = []
    lock = threading.Lock()

    def register(run_id: str) -> None:
        version = registry.register_model(f"runs:/{run_id}/model", "m", "ann").version
        with lock:
            versions.append(version)

    threads = [threading.Thread(target=register, args=(r,)) for r in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == [1, 2, 3, 4, 5, 6]


class _AucGate:
    """A stand-in promotion gate: approves versions tagged with a good enough AUC."""

    name = "auc-gate"

    def review(self, request: TransitionRequest, version: ModelVersion) -> Decision | None:
        auc = version.tags.get("auc")
        if auc is None:
            return None  # abstain: a human decides
        good = float(auc) >= 0.9
        return Decision(good, f"auc {auc} {'>=' if good else '<'} 0.9")


def test_a_reviewer_hook_resolves_requests_automatically(
    store: SqlTrackingStore, service: TrackingService, tmp_path: Path
) -> None:
    registry = RegistryService(SqlRegistryStore(store.engines), service, reviewers=[_AucGate()])
    for auc in ("0.95", "0.7", None):
        tags = {"auc": auc} if auc else None
        registry.register_model(
            f"runs:/{run_with_model(service, tmp_path)}/model", "m", "ann", tags=tags
        )
    good = registry.request_transition("m", 1, "champion", "ann")
    assert good.status is RequestStatus.APPROVED
    assert good.resolved_by == "reviewer:auc-gate"
    assert registry.resolve("models:/m@champion").version == 1
    bad = registry.request_transition("m", 2, "champion", "ann")
    assert bad.status is RequestStatus.REJECTED
    assert "0.7 < 0.9" in bad.resolution_comment
    undecided = registry.request_transition("m", 3, "champion", "ann")
    assert undecided.status is RequestStatus.OPEN


def test_lineage_in_both_directions(
    registry: RegistryService, service: TrackingService, tmp_path: Path
) -> None:
    digest = "a" * 64
    first = run_with_model(service, tmp_path, digest=digest, name="first")
    second = run_with_model(service, tmp_path, digest=digest, name="second")
    other = run_with_model(service, tmp_path, digest="b" * 64, name="other")
    for run_id in (first, second, other):
        registry.register_model(f"runs:/{run_id}/model", "fraud", "ann")
    registry.set_alias("fraud", "champion", 2, "ann")

    upstream = registry.lineage("models:/fraud@champion")
    assert upstream.root == "model:fraud/2"
    assert {(e.source, e.target) for e in upstream.edges} == {
        (f"dataset:transactions@{digest}", f"run:{second}"),
        (f"run:{second}", "model:fraud/2"),
    }
    assert upstream.node(f"run:{second}").attributes["name"] == "second"
    assert upstream.node("model:fraud/2").attributes["aliases"] == ["champion"]

    downstream = registry.lineage(f"dataset:{digest}")
    versions = {n.id for n in downstream.nodes if n.kind == "model_version"}
    assert versions == {"model:fraud/1", "model:fraud/2"}
    assert [v.version for v in registry.versions_trained_on(digest)] == [1, 2]

    around_run = registry.lineage(f"runs:/{other}")
    assert {n.kind for n in around_run.nodes} == {"dataset", "run", "model_version"}
    with pytest.raises(NotFound, match="no run took"):
        registry.lineage("dataset:" + "c" * 64)
    with pytest.raises(InvalidArgument, match="cannot trace"):
        registry.lineage("fraud")
