"""`heron models ...` registry commands: tables, --json, JSON-lines history, lineage tree,
and exit codes for refused changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from heron import Client
from heron.cli.main import app
from registry_helpers import write_model_folder

runner = CliRunner(env={"COLUMNS": "200", "HERON_TRACKING_URI": None})


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'heron.db'}"


@pytest.fixture
def run_id(uri: str, tmp_path: Path) -> Iterator[str]:
    """A finished run that logged a model under ``model/`` and took one dataset."""
    import pandas as pd

    with Client(uri) as client:
        run = client.create_run(client.get_or_create_experiment("fraud").id, run_name="lr")
        client.log_artifacts(run.id, write_model_folder(tmp_path / "model"), "model")
        client.log_input(run.id, pd.DataFrame({"a": [1, 2]}), name="transactions")
        yield run.id


def heron(uri: str, *args: str, user: str = "ann") -> Result:
    return runner.invoke(app, ["--tracking-uri", uri, *args], env={"HERON_USER": user})


def test_register_alias_show_and_versions(uri: str, run_id: str) -> None:
    registered = heron(uri, "models", "register", f"runs:/{run_id}/model", "fraud", "--json")
    assert registered.exit_code == 0, registered.output
    assert json.loads(registered.stdout)["version"] == 1
    assert heron(uri, "models", "alias", "fraud", "challenger", "1").exit_code == 0
    listed = heron(uri, "models", "list")
    assert "fraud" in listed.stdout
    assert "@challenger→v1" in listed.stdout
    shown = heron(uri, "models", "show", "fraud")
    assert "age: long, income: double" in shown.stdout
    assert "ann" in shown.stdout
    versions = json.loads(heron(uri, "models", "versions", "fraud", "--json").stdout)
    assert [v["aliases"] for v in versions["versions"]] == [["challenger"]]
    assert heron(uri, "models", "stage", "fraud", "1", "Staging").exit_code == 0
    staged = heron(uri, "models", "versions", "--filter", "stage = 'Staging'", "--json")
    assert len(json.loads(staged.stdout)["versions"]) == 1
    removed = heron(uri, "models", "alias", "fraud", "challenger", "--delete")
    assert removed.exit_code == 0
    assert (
        json.loads(heron(uri, "models", "show", "fraud", "--json").stdout)["model"]["aliases"] == {}
    )


def test_governed_promotion_from_the_shell(uri: str, run_id: str) -> None:
    heron(uri, "models", "register", f"runs:/{run_id}/model", "fraud")
    assert heron(uri, "models", "grant", "root", "admin", user="root").exit_code == 0
    assert heron(uri, "models", "grant", "carol", "approver", user="root").exit_code == 0
    protect = heron(uri, "models", "policy", "fraud", "--protect", "champion", user="root")
    assert protect.exit_code == 0, protect.output
    denied = heron(uri, "models", "alias", "fraud", "champion", "1")
    assert denied.exit_code == 6  # permission denied
    assert "protected" in denied.output
    made = heron(uri, "models", "request", "fraud", "1", "champion", "-m", "best AUC", "--json")
    request_id = str(json.loads(made.stdout)["id"])
    assert heron(uri, "models", "approve", "fraud", request_id).exit_code == 6  # ann: no role
    approved = heron(uri, "models", "approve", "fraud", request_id, "-m", "ok", user="carol")
    assert approved.exit_code == 0, approved.output
    assert "APPROVED" in approved.stdout
    requests = json.loads(heron(uri, "models", "requests", "fraud", "--json").stdout)
    assert [r["status"] for r in requests["requests"]] == ["APPROVED"]
    lines = heron(uri, "models", "history", "fraud", "--jsonl").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["action"] for e in events if e["outcome"] == "ok"][-2:] == [
        "request.approve",
        "alias.set",
    ]
    assert sum(e["outcome"].startswith("refused") for e in events) == 2
    table = heron(uri, "models", "history", "fraud").stdout
    assert "refused" in table
    assert "request.approve" in table


def test_lineage_tree(uri: str, run_id: str) -> None:
    heron(uri, "models", "register", f"runs:/{run_id}/model", "fraud")
    tree = heron(uri, "models", "lineage", "models:/fraud/1")
    assert tree.exit_code == 0, tree.output
    lines = tree.stdout.splitlines()
    assert "model version fraud v1" in lines[0]
    assert "run lr" in lines[1]
    assert "dataset transactions" in lines[2]
    graph = json.loads(heron(uri, "models", "lineage", f"runs:/{run_id}", "--json").stdout)
    assert {n["kind"] for n in graph["nodes"]} == {"dataset", "run", "model_version"}


def test_errors_have_their_exit_codes(uri: str, run_id: str) -> None:
    assert heron(uri, "models", "show", "nope").exit_code == 3
    bad = heron(uri, "models", "register", f"runs:/{run_id}/../../etc", "fraud")
    assert bad.exit_code == 2
    assert "outside the run's artifacts" in bad.output
    heron(uri, "models", "register", f"runs:/{run_id}/model", "fraud")
    assert heron(uri, "models", "alias", "fraud", "has space", "1").exit_code == 2
    assert heron(uri, "models", "alias", "fraud", "champion").exit_code == 2  # no version
    assert heron(uri, "models", "delete", "fraud", "1").exit_code == 0
    assert heron(uri, "models", "restore", "fraud", "1").exit_code == 0
    assert heron(uri, "models", "delete", "fraud").exit_code == 0
    assert "No registered models" in heron(uri, "models", "list").stdout
    assert heron(uri, "models", "restore", "fraud").exit_code == 0
