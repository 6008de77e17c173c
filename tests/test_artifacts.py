"""Run artifacts on the local filesystem: files, folders, listing, download, safety."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import heron
from heron.errors import InvalidArgument, NotFound


@pytest.fixture
def client(sqlite_uri: str) -> heron.Client:
    return heron.Client(sqlite_uri)


def test_files_and_folders(client: heron.Client, tmp_path: Path) -> None:
    run = client.create_run(client.create_experiment("art").id)
    (tmp_path / "model.bin").write_bytes(b"\x00" * 100)
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(b"a")
    (folder / "sub" / "b.png").write_bytes(b"bb")
    client.log_artifact(run.id, tmp_path / "model.bin")
    client.log_artifact(run.id, tmp_path / "model.bin", artifact_path="models/v1")
    client.log_artifacts(run.id, folder, artifact_path="plots")
    client.log_dict(run.id, {"k": [1, 2]}, "meta/info.json")
    client.log_text(run.id, "hello", "notes.txt")

    top = client.list_artifacts(run.id)
    assert [(f.path, f.is_dir) for f in top] == [
        ("meta", True),
        ("model.bin", False),
        ("models", True),
        ("notes.txt", False),
        ("plots", True),
    ]
    assert next(f for f in top if f.path == "model.bin").size == 100
    assert [f.path for f in client.list_artifacts(run.id, "plots")] == ["plots/a.png", "plots/sub"]
    assert client.list_artifacts(run.id, "nothing-here") == []

    target = tmp_path / "downloaded"
    plots = client.download_artifacts(run.id, "plots", target)
    assert (plots / "sub" / "b.png").read_bytes() == b"bb"
    info = client.download_artifacts(run.id, "meta/info.json", target)
    assert json.loads(info.read_text()) == {"k": [1, 2]}
    everything = client.download_artifacts(run.id, "", tmp_path / "all")
    assert (everything / "models" / "v1" / "model.bin").stat().st_size == 100
    assert run.artifact_uri.startswith(
        str(Path(client.get_experiment(run.experiment_id).artifact_location))
    )


def test_no_temporary_files_are_left_visible(client: heron.Client, tmp_path: Path) -> None:
    run = client.create_run(client.create_experiment("atomic").id)
    (tmp_path / "x.txt").write_text("x")
    for _ in range(3):
        client.log_artifact(run.id, tmp_path / "x.txt")
    root = Path(run.artifact_uri)
    assert sorted(p.name for p in root.iterdir()) == ["x.txt"]


@pytest.mark.parametrize("bad", ["../escape", "/etc", "a/../../b", "a\\b"])
def test_paths_cannot_escape_the_run(client: heron.Client, tmp_path: Path, bad: str) -> None:
    run = client.create_run(client.create_experiment("safe").id)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(InvalidArgument, match="artifact path"):
        client.log_artifact(run.id, tmp_path / "x.txt", artifact_path=bad)
    with pytest.raises(InvalidArgument):
        client.download_artifacts(run.id, bad, tmp_path / "out")
    assert not (tmp_path / "escape").exists()


def test_missing_files(client: heron.Client, tmp_path: Path) -> None:
    run = client.create_run(client.create_experiment("missing").id)
    with pytest.raises(NotFound, match="no such file"):
        client.log_artifact(run.id, tmp_path / "nope.txt")
    with pytest.raises(NotFound, match="no artifact"):
        client.download_artifacts(run.id, "nope.txt", tmp_path / "out")
    with pytest.raises(InvalidArgument, match="directory"):
        client.log_artifacts(run.id, tmp_path / "nope")
