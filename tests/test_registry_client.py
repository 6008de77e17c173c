"""The registry through heron.Client, embedded and against a Heron server: same API, same
errors, and the acting user travels with each change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import heron
from asgi import TestClient
from heron.client.http_transport import HttpTransport
from heron.entities.registry import RequestStatus, Role, Stage
from heron.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, PermissionDenied
from heron.server.app import create_app
from heron.server.settings import ServerSettings
from registry_helpers import write_model_folder


@pytest.fixture(params=["local", "http"])
def connect(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A factory of clients acting as a given user, all on one store (or one server)."""
    store_uri = f"sqlite:///{tmp_path / 'heron.db'}"
    opened: list[heron.Client] = []
    if request.param == "local":

        def local(user: str) -> heron.Client:
            opened.append(heron.Client(store_uri, user=user))
            return opened[-1]

        yield local
    else:
        settings = ServerSettings(
            backend_store_uri=store_uri, default_artifact_root=str(tmp_path / "artifacts")
        )
        with TestClient(create_app(settings), base_url="http://heron.test") as http:

            def remote(user: str) -> heron.Client:
                transport = HttpTransport("http://heron.test", http_client=http, backoff=0.01)
                opened.append(heron.Client(transport=transport, user=user))
                return opened[-1]

            yield remote
    for client in opened:
        client.close()


def _logged_model(client: heron.Client, tmp_path: Path) -> str:
    experiment = client.get_or_create_experiment("fraud").id
    run = client.create_run(experiment, run_name="lr")
    client.log_artifacts(run.id, write_model_folder(tmp_path / run.id), "model")
    return run.id


def test_register_alias_and_resolve(connect: object, tmp_path: Path) -> None:
    ann: heron.Client = connect("ann")  # type: ignore[operator]
    run_id = _logged_model(ann, tmp_path)
    version = ann.register_model(f"runs:/{run_id}/model", "fraud", tags={"owner": "risk"})
    assert version.version == 1
    assert version.created_by == "ann"
    assert version.signature.startswith("(age: long")
    ann.register_model(f"runs:/{_logged_model(ann, tmp_path)}/model", "fraud")
    ann.set_alias("fraud", "challenger", 2)
    assert ann.get_model_version_by_uri("models:/fraud@challenger").version == 2
    assert ann.resolve_model_uri("models:/fraud/1") == f"runs:/{run_id}/model"
    assert ann.get_registered_model("fraud").aliases == {"challenger": 2}
    ann.transition_stage("fraud", 1, "Staging")
    assert ann.get_model_version("fraud", 1).stage is Stage.STAGING
    found = ann.search_model_versions("tags.owner = 'risk'")
    assert [v.version for v in found] == [1]
    assert [m.name for m in ann.search_registered_models("name LIKE 'fr%'")] == ["fraud"]
    with pytest.raises(NotFound):
        ann.get_model_version("fraud", 9)
    with pytest.raises(InvalidArgument, match="looks like a version"):
        ann.set_alias("fraud", "v2", 2)
    with pytest.raises(InvalidArgument, match="holds no model"):
        ann.register_model(f"runs:/{run_id}/nothing", "fraud")
    with pytest.raises(AlreadyExists):
        ann.create_registered_model("fraud")


def test_governed_promotion_across_users(connect: object, tmp_path: Path) -> None:
    ann: heron.Client = connect("ann")  # type: ignore[operator]
    carol: heron.Client = connect("carol")  # type: ignore[operator]
    root: heron.Client = connect("root")  # type: ignore[operator]
    for _ in range(2):
        ann.register_model(f"runs:/{_logged_model(ann, tmp_path)}/model", "fraud")
    root.grant_role("root", Role.ADMIN)
    root.grant_role("carol", "approver")
    root.set_model_policy("fraud", protected_aliases=["champion"])
    assert carol.roles_of("carol") == {Role.APPROVER}
    with pytest.raises(PermissionDenied, match="protected"):
        ann.set_alias("fraud", "champion", 2)
    request = ann.request_transition("fraud", 2, "champion", comment="beats v1")
    with pytest.raises(PermissionDenied, match="approver role"):
        ann.approve("fraud", request.id)
    approved = carol.approve("fraud", request.id, comment="ok")
    assert approved.status is RequestStatus.APPROVED
    assert approved.resolved_by == "carol"
    assert ann.get_model_version_by_uri("models:/fraud@champion").version == 2
    with pytest.raises(Conflict):
        carol.reject("fraud", request.id)
    assert [r.id for r in ann.list_requests("fraud", "approved")] == [request.id]
    history = ann.model_history("fraud")
    moves = [e.actor for e in history if e.action == "alias.set" and e.outcome == "ok"]
    assert moves == ["carol"]
    assert [e.actor for e in history if e.outcome.startswith("refused")] == ["ann", "ann"]


def test_atomic_alias_moves_and_optimistic_revision(connect: object, tmp_path: Path) -> None:
    ann: heron.Client = connect("ann")  # type: ignore[operator]
    for _ in range(2):
        ann.register_model(f"runs:/{_logged_model(ann, tmp_path)}/model", "m")
    model = ann.move_aliases("m", {"champion": 1, "challenger": 2})
    stale = model.label_revision
    ann.move_aliases("m", {"champion": 2, "challenger": 1}, expected_revision=stale)
    with pytest.raises(Conflict, match="changed since you read"):
        ann.set_alias("m", "champion", 1, expected_revision=stale)
    assert ann.get_registered_model("m").aliases == {"champion": 2, "challenger": 1}
    ann.delete_alias("m", "challenger")
    assert ann.get_registered_model("m").aliases == {"champion": 2}


def test_lineage_through_the_client(connect: object, tmp_path: Path) -> None:
    ann: heron.Client = connect("ann")  # type: ignore[operator]
    run_id = _logged_model(ann, tmp_path)
    import pandas as pd

    frame = pd.DataFrame({"age": [30, 40], "income": [1.0, 2.0]})
    dataset = ann.log_input(run_id, frame, context="training", name="transactions")
    ann.register_model(f"runs:/{run_id}/model", "fraud")
    graph = ann.lineage("models:/fraud/1")
    kinds = sorted(n.kind for n in graph.nodes)
    assert kinds == ["dataset", "model_version", "run"]
    assert f"dataset:transactions@{dataset.dataset.digest}" in {n.id for n in graph.nodes}
    down = ann.lineage(f"dataset:{dataset.dataset.digest}")
    assert "model:fraud/1" in {n.id for n in down.nodes}


def test_model_lifecycle_and_tags(connect: object, tmp_path: Path) -> None:
    ann: heron.Client = connect("ann")  # type: ignore[operator]
    ann.create_registered_model("m", description="first", tags={"a": "1"})
    ann.register_model(f"runs:/{_logged_model(ann, tmp_path)}/model", "m")
    ann.update_registered_model("m", "second")
    ann.set_registered_model_tag("m", "b", 2)
    ann.delete_registered_model_tag("m", "a")
    ann.update_model_version("m", 1, "v1 notes")
    ann.set_model_version_tag("m", 1, "k", "v")
    ann.delete_model_version_tag("m", 1, "k")
    model = ann.rename_registered_model("m", "m2")
    assert (model.name, model.description, model.tags) == ("m2", "second", {"b": "2"})
    assert ann.get_model_version("m2", 1).description == "v1 notes"
    ann.delete_model_version("m2", 1)
    ann.restore_model_version("m2", 1)
    ann.delete_registered_model("m2")
    assert ann.search_registered_models().items == []
    ann.restore_registered_model("m2")
    assert ann.get_registered_model("m2").latest_version == 1
