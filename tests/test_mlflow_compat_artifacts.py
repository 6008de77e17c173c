"""MLflow's client storing and fetching artifacts through a Heron server's artifact proxy."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from heron.client import Client
from heron.store import SqlTrackingStore
from live_server import LiveServer
from mlflow_server import mlflow_pointed_at, running_server

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from running_server(tmp_path_factory)


@pytest.fixture
def tracking_uri(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from mlflow_pointed_at(server.url, monkeypatch)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _random_file(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        remaining = size
        while remaining:
            chunk = min(remaining, 8 << 20)
            handle.write(os.urandom(chunk))
            remaining -= chunk
    return path


def test_artifacts_round_trip_and_are_heron_artifacts(
    server: LiveServer, tracking_uri: str, tmp_path: Path
) -> None:
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "summary.txt").write_text("accuracy 0.9\n")
    (tmp_path / "report" / "plots").mkdir()
    (tmp_path / "report" / "plots" / "roc.csv").write_text("fpr,tpr\n0,0\n1,1\n")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "report"), "report")
        mlflow.log_text("hello", "notes/hello.txt")
        mlflow.log_dict({"a": 1}, "config.json")
    run_id = run.info.run_id
    client = MlflowClient()

    top = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [
        ("config.json", False),
        ("notes", True),
        ("report", True),
    ]
    report = client.list_artifacts(run_id, "report")
    assert [(f.path, f.file_size) for f in report] == [
        ("report/plots", None),
        ("report/summary.txt", 13),
    ]
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"a": 1}
    folder = Path(client.download_artifacts(run_id, "report", str(tmp_path / "down")))
    assert (folder / "plots" / "roc.csv").read_text() == "fpr,tpr\n0,0\n1,1\n"

    # The same files, with checksums, through Heron's own client.
    heron = Client(server.url)
    files = {f.path: f for f in heron.list_artifacts(run_id, "report")}
    summary = files["report/summary.txt"]
    assert summary.sha256 == hashlib.sha256(b"accuracy 0.9\n").hexdigest()
    heron.close()


def test_artifact_paths_outside_a_run_are_refused(
    server: LiveServer, tracking_uri: str, tmp_path: Path
) -> None:
    proxy = f"{server.url}/api/2.0/mlflow-artifacts/artifacts"
    escape = httpx.put(f"{proxy}/1/..%2F..%2Fetc/passwd", content=b"x")
    assert escape.status_code == 400
    assert escape.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    nobody = httpx.get(f"{proxy}/1/{'0' * 32}/artifacts/model.pkl")
    assert nobody.status_code == 404
    assert nobody.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    with mlflow.start_run() as run:
        pass
    # MLflow's client words this one itself, whatever the server's error code.
    with pytest.raises(MlflowException, match="Failed to download artifacts"):
        mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="missing.txt", dst_path=str(tmp_path)
        )


def test_multipart_upload_as_mlflow_client_does_it(
    server: LiveServer, tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1 << 20))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(1 << 20))
    source = _random_file(tmp_path / "weights.bin", (5 << 20) + 123)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source), "model")
    got = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="model/weights.bin", dst_path=str(tmp_path / "d")
    )
    assert _sha256(Path(got)) == _sha256(source)
    # It went up in 1 MiB parts through the part route, and no staged part was left over.
    metrics = httpx.get(f"{server.url}/metrics").text.splitlines()
    parts_route = 'mlflow-artifacts/mpu/parts/{upload_id}/{part_number}",status="200"} 6.0'
    assert any(line.startswith("heron_http_requests_total") for line in metrics)
    assert any(parts_route in line for line in metrics)
    assert list((server.folder / "artifacts" / ".mlflow-multipart").iterdir()) == []


def test_large_files_go_up_in_parts_because_the_server_says_it_can(
    server: LiveServer, tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD: the client asks /api/3.0/mlflow/server-info.
    monkeypatch.delenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", raising=False)
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1 << 20))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(1 << 20))
    parts_route = 'mlflow-artifacts/mpu/parts/{upload_id}/{part_number}",status="200"}'

    def parts_uploaded() -> float:
        lines = httpx.get(f"{server.url}/metrics").text.splitlines()
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines if parts_route in line)

    before = parts_uploaded()
    source = _random_file(tmp_path / "weights.bin", (3 << 20) + 7)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source), "model")
    assert parts_uploaded() - before == 4
    got = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="model/weights.bin", dst_path=str(tmp_path / "d")
    )
    assert _sha256(Path(got)) == _sha256(source)


def test_artifacts_are_deleted_with_their_checksums(
    server: LiveServer, tracking_uri: str, tmp_path: Path
) -> None:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    with mlflow.start_run() as run:
        mlflow.log_text("a", "keep.txt")
        mlflow.log_text("b", "drafts/one.txt")
        mlflow.log_text("c", "drafts/two.txt")
    repository = get_artifact_repository(run.info.artifact_uri)
    repository.delete_artifacts("drafts")
    repository.delete_artifacts("never-there.txt")  # as on MLflow's server: nothing to do

    client = MlflowClient()
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["keep.txt"]
    store = SqlTrackingStore(f"sqlite:///{server.folder / 'heron.db'}")
    try:
        assert set(store.artifact_checksums(run.info.run_id)) == {"keep.txt"}
    finally:
        store.close()
    gone = httpx.delete(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/1/{'0' * 32}/artifacts/x")
    assert gone.status_code == 404


@pytest.mark.slow
def test_a_200_mb_artifact_uploads_and_downloads_intact(tracking_uri: str, tmp_path: Path) -> None:
    source = _random_file(tmp_path / "big.bin", 200 << 20)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source), "data")
    got = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="data/big.bin", dst_path=str(tmp_path / "down")
    )
    assert Path(got).stat().st_size == 200 << 20
    assert _sha256(Path(got)) == _sha256(source)
