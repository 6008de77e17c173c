"""Tests of the ``heron`` command line (heron.cli) against a temporary embedded store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from heron import Client
from heron.cli.errors import exit_code_for
from heron.cli.main import app
from heron.errors import (
    AlreadyExists,
    Conflict,
    GateFailed,
    HeronError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    SearchSyntaxError,
    Unauthenticated,
)
from heron.store import migrate

# A fixed width so that table assertions do not depend on the terminal running pytest.
runner = CliRunner(env={"COLUMNS": "200", "HERON_TRACKING_URI": None})


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'heron.db'}"


@pytest.fixture
def client(uri: str) -> Iterator[Client]:
    with Client(uri) as opened:
        yield opened


def heron(uri: str, *args: str) -> Result:
    return runner.invoke(app, ["--tracking-uri", uri, *args])


def heron_json(uri: str, *args: str) -> Any:
    result = heron(uri, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def seed_runs(client: Client) -> dict[str, str]:
    """Three runs in 'fraud' (r0 oldest), one in 'churn'; returns run name -> id."""
    fraud = client.create_experiment("fraud").id
    churn = client.create_experiment("churn").id
    ids: dict[str, str] = {}
    rows = [("r0", "0.1", 0.90, 0.30), ("r1", "0.01", 0.95, 0.20), ("r2", "0.1", 0.80, 0.50)]
    for offset, (name, lr, auc, loss) in enumerate(rows):
        run = client.create_run(fraud, run_name=name, start_time=1_700_000_000_000 + offset)
        client.log_batch(run.id, params={"lr": lr, "depth": "3"})
        client.log_metric(run.id, "auc", auc)
        client.log_metric(run.id, "loss", loss)
        client.end_run(run.id)
        ids[name] = run.id
    other = client.create_run(churn, run_name="c0", start_time=1_700_000_000_100)
    client.log_metric(other.id, "auc", 0.7)
    ids["c0"] = other.id
    return ids


def names(payload: Any) -> list[str]:
    return [run["name"] for run in payload["runs"]]


# -- global behaviour ----------------------------------------------------------------


def test_no_arguments_prints_help() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 2  # Typer's own usage convention
    for command in ("experiments", "runs", "db"):
        assert command in result.output


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidArgument("x"), 2),
        (SearchSyntaxError("bad", "a b", 2), 2),
        (NotFound("x"), 3),
        (AlreadyExists("x"), 4),
        (Conflict("x"), 5),
        (PermissionDenied("x"), 6),
        (Unauthenticated("x"), 7),
        (GateFailed("x"), 1),
        (HeronError("x"), 1),
    ],
)
def test_exit_code_for_each_error(error: HeronError, code: int) -> None:
    assert exit_code_for(error) == code


def test_bad_tracking_uri_is_a_clean_invalid_argument(tmp_path: Path) -> None:
    result = heron("mysql://localhost/heron", "experiments", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unsupported tracking URI 'mysql://localhost/heron'")
    assert "Traceback" not in result.output


def test_unreachable_server_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import heron.client.http_transport as http_transport

    monkeypatch.setattr(http_transport.time, "sleep", lambda _seconds: None)  # skip backoff
    result = heron("http://127.0.0.1:9", "experiments", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the Heron server at http://127.0.0.1:9")
    assert "Traceback" not in result.output


def test_tracking_uri_from_environment(uri: str, client: Client) -> None:
    client.create_experiment("from-env")
    result = runner.invoke(app, ["experiments", "list", "--json"], env={"HERON_TRACKING_URI": uri})
    assert result.exit_code == 0, result.stderr
    assert [e["name"] for e in json.loads(result.stdout)["experiments"]] == ["from-env"]


# -- experiments ---------------------------------------------------------------------


def test_experiment_lifecycle(uri: str) -> None:
    created = heron_json(uri, "experiments", "create", "fraud", "--tag", "team=risk")
    assert created["name"] == "fraud"
    assert created["tags"] == {"team": "risk"}
    assert created["lifecycle_stage"] == "active"
    assert isinstance(created["creation_time"], int)

    duplicate = heron(uri, "experiments", "create", "fraud")
    assert duplicate.exit_code == 4
    assert duplicate.stderr.startswith("Error: an experiment named 'fraud' already exists")
    assert duplicate.stdout == ""

    renamed = heron(uri, "experiments", "rename", "fraud", "fraud-v2")
    assert renamed.exit_code == 0, renamed.stderr
    assert heron(uri, "experiments", "rename", "missing", "x").exit_code == 3

    deleted = heron(uri, "experiments", "delete", created["id"])
    assert deleted.exit_code == 0, deleted.stderr
    assert heron_json(uri, "experiments", "list")["experiments"] == []
    gone = heron_json(uri, "experiments", "list", "--view", "deleted")["experiments"]
    assert [(e["name"], e["lifecycle_stage"]) for e in gone] == [("fraud-v2", "deleted")]

    # Restore by name: the name of a deleted experiment must still resolve.
    restored = heron(uri, "experiments", "restore", "fraud-v2")
    assert restored.exit_code == 0, restored.stderr
    active = heron_json(uri, "experiments", "list")["experiments"]
    assert [e["name"] for e in active] == ["fraud-v2"]
    assert heron_json(uri, "experiments", "list", "--view", "deleted")["experiments"] == []


def test_experiment_create_options_and_table(uri: str, tmp_path: Path) -> None:
    location = str(tmp_path / "elsewhere")
    created = heron_json(
        uri, "experiments", "create", "with[brackets]", "--artifact-location", location
    )
    assert created["artifact_location"] == location
    table = heron(uri, "experiments", "list", "--view", "all")
    assert table.exit_code == 0
    assert "with[brackets]" in table.stdout  # user text is not read as rich markup
    assert location in table.stdout


def test_experiment_create_rejects_malformed_tag(uri: str) -> None:
    result = heron(uri, "experiments", "create", "x", "--tag", "no-equals-sign")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr


def test_experiment_unknown_exits_3(uri: str) -> None:
    result = heron(uri, "experiments", "delete", "nope")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: no experiment named 'nope'")


# -- runs list -----------------------------------------------------------------------


def test_runs_list_defaults_to_all_active_experiments_newest_first(
    uri: str, client: Client
) -> None:
    seed_runs(client)
    payload = heron_json(uri, "runs", "list")
    assert names(payload) == ["c0", "r2", "r1", "r0"]
    assert payload["next_page_token"] is None
    first = payload["runs"][0]
    assert len(first["id"]) == 32  # full ids in JSON
    assert first["start_time"] == 1_700_000_000_100


def test_runs_list_filter_order_and_limit(uri: str, client: Client) -> None:
    seed_runs(client)
    by_auc = heron_json(uri, "runs", "list", "-e", "fraud", "--order-by", "metrics.auc DESC")
    assert names(by_auc) == ["r1", "r0", "r2"]

    filtered = heron_json(
        uri,
        "runs",
        "list",
        "-e",
        "fraud",
        "--filter",
        "params.lr = '0.1'",
        "--order-by",
        "metrics.loss",
    )
    assert names(filtered) == ["r0", "r2"]

    two_keys = heron_json(
        uri,
        "runs",
        "list",
        "-e",
        "fraud",
        "--order-by",
        "params.lr",
        "--order-by",
        "metrics.auc DESC",
    )
    assert names(two_keys) == ["r1", "r0", "r2"]

    limited = heron_json(uri, "runs", "list", "--max-results", "2")
    assert names(limited) == ["c0", "r2"]
    assert limited["next_page_token"] is not None


def test_runs_list_repeated_experiment_by_name_and_id(uri: str, client: Client) -> None:
    seed_runs(client)
    churn = client.resolve_experiment("churn").id
    payload = heron_json(uri, "runs", "list", "-e", "fraud", "-e", churn, "-e", "fraud")
    assert sorted(names(payload)) == ["c0", "r0", "r1", "r2"]


def test_runs_list_json_nan_is_the_string_nan(uri: str, client: Client) -> None:
    run = client.create_run(client.create_experiment("e").id, run_name="n")
    client.log_metric(run.id, "loss", float("nan"))
    client.log_metric(run.id, "gain", float("inf"))
    result = heron(uri, "runs", "list", "--json")
    assert "NaN" in result.stdout
    metrics = json.loads(result.stdout)["runs"][0]["metrics"]
    assert metrics == {"loss": "NaN", "gain": "Infinity"}
    table = heron(uri, "runs", "list")
    assert " nan " in table.stdout
    assert " inf " in table.stdout


def test_runs_list_table(uri: str, client: Client) -> None:
    ids = seed_runs(client)
    result = heron(uri, "runs", "list", "-e", "fraud")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[1]
    columns = header.split()
    assert columns[:5] == ["run", "id", "name", "status", "start"]
    # Metrics before params, each alphabetically.
    assert columns[-4:] == ["auc", "loss", "depth", "lr"]
    assert ids["r0"][:8] in result.stdout
    assert ids["r0"] not in result.stdout
    assert "FINISHED" in result.stdout


def test_runs_list_on_empty_store(uri: str) -> None:
    assert heron_json(uri, "runs", "list") == {"runs": [], "next_page_token": None}
    assert "No runs." in heron(uri, "runs", "list").stdout


def test_malformed_filter_exits_2_with_caret(uri: str, client: Client) -> None:
    seed_runs(client)
    text = "metrics.auc > 0.9 and"
    result = heron(uri, "runs", "list", "--filter", text)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: ")
    assert "at position" in lines[0]
    assert lines[1] == f"  {text}"
    position = int(lines[0].rsplit("position ", 1)[1].rstrip(":"))
    assert lines[2] == "  " + " " * position + "^"
    assert "Traceback" not in result.output


def test_malformed_order_by_exits_2(uri: str, client: Client) -> None:
    seed_runs(client)
    result = heron(uri, "runs", "list", "--order-by", "metrics.auc SIDEWAYS")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")


# -- runs show -----------------------------------------------------------------------


def test_runs_show_json(uri: str, client: Client, tmp_path: Path) -> None:
    ids = seed_runs(client)
    run_id = ids["r0"]
    client.set_tag(run_id, "team", "risk")
    client.log_text(run_id, "hello", "notes.txt")
    client.log_text(run_id, "x", "model/weights.txt")
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    client.log_input(run_id, data, context="training", name="train")

    shown = heron_json(uri, "runs", "show", run_id)
    assert shown["id"] == run_id
    assert shown["experiment_name"] == "fraud"
    assert shown["params"] == {"lr": "0.1", "depth": "3"}
    assert shown["metrics"] == {"auc": 0.9, "loss": 0.3}
    assert shown["tags"]["team"] == "risk"
    assert shown["status"] == "FINISHED"
    assert shown["duration_ms"] == shown["end_time"] - shown["start_time"]
    assert [i["dataset"]["name"] for i in shown["inputs"]] == ["train"]
    assert sorted((a["path"], a["is_dir"]) for a in shown["artifacts"]) == [
        ("model", True),
        ("notes.txt", False),
    ]


def test_runs_show_table_and_id_prefix(uri: str, client: Client) -> None:
    ids = seed_runs(client)
    client.log_input(ids["r1"], np.arange(6).reshape(3, 2), name="digits")
    result = heron(uri, "runs", "show", ids["r1"][:8])  # the prefix `runs list` shows
    assert result.exit_code == 0, result.stderr
    for expected in (ids["r1"], "r1", "fraud", "FINISHED", "Params", "lr", "0.01", "digits"):
        assert expected in result.stdout
    assert "Artifacts: none" in result.stdout


def test_unknown_run_exits_3(uri: str, client: Client) -> None:
    seed_runs(client)
    for command in (["runs", "show"], ["runs", "delete"], ["runs", "restore"]):
        result = heron(uri, *command, "0" * 32)
        assert result.exit_code == 3, command
        assert result.stderr == f"Error: no run with id '{'0' * 32}'\n"
    assert heron(uri, "runs", "show", "not-hex").exit_code == 3


# -- runs compare --------------------------------------------------------------------


def test_runs_compare_json(uri: str, client: Client) -> None:
    ids = seed_runs(client)
    client.log_param(ids["r2"], "extra", "yes")
    run_ids = [ids["r0"], ids["r1"], ids["r2"]]
    payload = heron_json(uri, "runs", "compare", *run_ids)
    assert payload["runs"] == run_ids
    assert payload["params"]["lr"] == dict(zip(run_ids, ["0.1", "0.01", "0.1"], strict=True))
    assert payload["params"]["extra"] == {ids["r0"]: None, ids["r1"]: None, ids["r2"]: "yes"}
    assert payload["differences"] == {"params": ["extra", "lr"], "metrics": ["auc", "loss"]}
    assert "depth" in payload["params"]
    # auc: higher is better; loss: lower is better.
    assert payload["best"] == {"auc": [ids["r1"]], "loss": [ids["r1"]]}


def test_runs_compare_direction_override_and_identical_rows(uri: str, client: Client) -> None:
    ids = seed_runs(client)
    payload = heron_json(uri, "runs", "compare", ids["r0"], ids["r2"], "--minimize", "auc")
    assert payload["best"]["auc"] == [ids["r2"]]
    assert "depth" not in payload["differences"]["params"]  # equal everywhere


def test_runs_compare_table_marks_differences(uri: str, client: Client) -> None:
    ids = seed_runs(client)
    result = heron(uri, "runs", "compare", ids["r0"], ids["r1"])
    assert result.exit_code == 0, result.stderr
    marked = (re.search(r"│ ! (\w+) ", line) for line in result.stdout.splitlines())
    rows = {m.group(1): m.string for m in marked if m}
    assert set(rows) == {"lr", "auc", "loss"}
    assert "0.95 *" in rows["auc"]
    assert "0.2 *" in rows["loss"]


def test_runs_compare_needs_two_runs(uri: str, client: Client) -> None:
    ids = seed_runs(client)
    result = heron(uri, "runs", "compare", ids["r0"], ids["r0"])
    assert result.exit_code == 2


# -- runs delete / restore -----------------------------------------------------------


def test_runs_delete_and_restore_show_in_views(uri: str, client: Client) -> None:
    ids = seed_runs(client)
    deleted = heron(uri, "runs", "delete", ids["r0"], ids["r1"][:10])
    assert deleted.exit_code == 0, deleted.stderr
    assert names(heron_json(uri, "runs", "list", "-e", "fraud")) == ["r2"]
    assert names(heron_json(uri, "runs", "list", "-e", "fraud", "--view", "deleted")) == [
        "r1",
        "r0",
    ]
    assert len(heron_json(uri, "runs", "list", "-e", "fraud", "--view", "all")["runs"]) == 3

    restored = heron(uri, "runs", "restore", ids["r1"])
    assert restored.exit_code == 0, restored.stderr
    assert names(heron_json(uri, "runs", "list", "-e", "fraud")) == ["r2", "r1"]


def test_runs_delete_checks_every_id_before_changing_any(uri: str, client: Client) -> None:
    ids = seed_runs(client)
    result = heron(uri, "runs", "delete", ids["r0"], "f" * 32)
    assert result.exit_code == 3
    assert client.get_run(ids["r0"]).lifecycle_stage.value == "active"


# -- db ------------------------------------------------------------------------------


def test_db_upgrade_on_fresh_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh' / 'heron.db'}"
    head = migrate.head_revision()
    before = heron(uri, "db", "current")
    assert before.exit_code == 0, before.stderr
    assert "(none: empty database)" in before.stdout

    upgraded = heron(uri, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert f"Upgraded: (empty database) -> {head}" in upgraded.stdout

    again = runner.invoke(app, ["db", "upgrade", "--tracking-uri", uri])
    assert again.exit_code == 0, again.stderr
    assert f"Already at the latest revision: {head}" in again.stdout
    assert f"Up to date (head {head})" in heron(uri, "db", "current").stdout
    # And the upgraded database is usable.
    assert heron_json(uri, "experiments", "list") == {"experiments": []}


# -- the installed console script ----------------------------------------------------


def test_installed_console_script(uri: str, client: Client) -> None:
    seed_runs(client)
    script = Path(sys.executable).parent / "heron"
    env = {**os.environ, "HERON_TRACKING_URI": uri}
    helped = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, env=env, check=False
    )
    assert helped.returncode == 0, helped.stderr
    assert "experiments" in helped.stdout

    listed = subprocess.run(
        [str(script), "runs", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert names(json.loads(listed.stdout)) == ["c0", "r2", "r1", "r0"]

    missing = subprocess.run(
        [str(script), "runs", "show", "0" * 32],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert missing.returncode == 3
    assert missing.stderr.startswith("Error: no run with id")
    assert "Traceback" not in missing.stderr
