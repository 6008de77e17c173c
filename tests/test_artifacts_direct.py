"""Artifact modes of a tracking server: proxy (bytes through the server) and direct (the
client reads and writes the store with its own credentials; the server keeps the record).

Every client test runs in both modes on a local folder and on S3 (moto's server, reached
by server and client through the standard AWS variables).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import s3fs

import heron
from asgi import TestClient
from heron.artifacts import ArtifactsMode, artifact_repository
from heron.artifacts.fsspec_repository import BLOCK_SIZE
from heron.client.http_transport import HttpTransport
from heron.errors import DataCorrupted, InvalidArgument
from heron.server import ServerSettings, create_app
from heron.server.settings import ARTIFACTS_MODE_ENV
from live_server import LiveServer
from s3_server import MotoS3Server

API = "/api/v1"
MiB = 1 << 20


@pytest.fixture(scope="module")
def s3_server() -> Iterator[MotoS3Server]:
    server = MotoS3Server()
    yield server
    server.stop()


@pytest.fixture
def aws_environment(
    s3_server: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """moto's endpoint and keys in the standard variables, and nothing of the developer's."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name, value in s3_server.environment().items():
        monkeypatch.setenv(name, value)
    # fsspec caches filesystems by their arguments, not the environment they were built from.
    s3fs.S3FileSystem.clear_instance_cache()
    yield s3_server.environment()
    s3fs.S3FileSystem.clear_instance_cache()
    s3_server.reset()


def _artifact_root(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "local":
        return str(tmp_path / "server-artifacts")
    request.getfixturevalue("aws_environment")
    server: MotoS3Server = request.getfixturevalue("s3_server")
    return f"s3://{server.create_bucket()}/heron"


@dataclass
class Served:
    client: heron.Client
    mode: ArtifactsMode
    requests: list[str]  # "METHOD /path" of every request the client sent the server


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(params=list(ArtifactsMode))
def served(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Served]:
    mode: ArtifactsMode = request.param
    root = _artifact_root(backend, tmp_path, request)
    settings = ServerSettings(f"sqlite:///{tmp_path / 'heron.db'}", root, artifacts_mode=mode)
    seen: list[str] = []

    def remember(sent: httpx.Request) -> None:
        seen.append(f"{sent.method} {sent.url.path}")

    with TestClient(create_app(settings), base_url="http://heron.test") as http:
        http.event_hooks = {"request": [remember], "response": []}
        transport = HttpTransport("http://heron.test", http_client=http, backoff=0.01)
        yield Served(heron.Client(transport=transport), mode, seen)


def _content_uploads(requests: list[str]) -> list[str]:
    return [r for r in requests if r.startswith("PUT ") and r.endswith("/artifacts/content")]


def test_files_and_folders_round_trip(served: Served, tmp_path: Path) -> None:
    client = served.client
    run = client.create_run(client.get_or_create_experiment("modes").id)
    (tmp_path / "model.bin").write_bytes(os.urandom(3000))
    plots = tmp_path / "plots"
    (plots / "sub").mkdir(parents=True)
    (plots / "a.png").write_bytes(b"a")
    (plots / "sub" / "b.png").write_bytes(b"bb")

    client.log_artifact(run.id, tmp_path / "model.bin", artifact_path="models")
    client.log_artifacts(run.id, plots, artifact_path="plots")
    client.log_text(run.id, "hello", "notes.txt")

    if served.mode is ArtifactsMode.DIRECT:
        assert _content_uploads(served.requests) == []  # no byte went through the server
        records = [r for r in served.requests if r.endswith("/artifacts/checksums")]
        assert records == [f"POST {API}/runs/{run.id}/artifacts/checksums"] * 3
    else:
        assert len(_content_uploads(served.requests)) == 4

    # Whoever wrote them, the server lists the files with the sha256 it recorded.
    top = {f.path: f for f in client.list_artifacts(run.id)}
    assert sorted(top) == ["models", "notes.txt", "plots"]
    assert top["notes.txt"].sha256 == hashlib.sha256(b"hello").hexdigest()
    assert top["notes.txt"].size == 5
    (model,) = client.list_artifacts(run.id, "models")
    assert model.sha256 == hashlib.sha256((tmp_path / "model.bin").read_bytes()).hexdigest()

    served.requests.clear()
    everything = client.download_artifacts(run.id, "", tmp_path / "all")
    assert (everything / "models" / "model.bin").read_bytes() == (
        tmp_path / "model.bin"
    ).read_bytes()
    assert (everything / "plots" / "sub" / "b.png").read_bytes() == b"bb"
    one = client.download_artifacts(run.id, "plots/a.png", tmp_path / "one")
    assert one.read_bytes() == b"a"
    downloads = [r for r in served.requests if r.startswith("GET ") and "/content" in r]
    assert (downloads == []) is (served.mode is ArtifactsMode.DIRECT)


def test_download_refuses_a_changed_artifact(served: Served, tmp_path: Path) -> None:
    client = served.client
    run = client.create_run(client.get_or_create_experiment("tamper").id)
    client.log_text(run.id, "the real weights", "model/weights.txt")
    # Someone with access to the store replaces the bytes behind the server's back.
    tampered = artifact_repository(run.artifact_uri)
    tampered.upload_file(_file(tmp_path / "evil.txt", b"other weights!!!"), "model/weights.txt")

    with pytest.raises(DataCorrupted, match=r"model/weights\.txt"):
        client.download_artifacts(run.id, "model", tmp_path / "out")
    assert not (tmp_path / "out" / "model" / "weights.txt").exists()


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_direct_large_upload_is_multipart_on_s3(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    root = _artifact_root("s3", tmp_path, request)
    settings = ServerSettings(f"sqlite:///{tmp_path / 'heron.db'}", root, artifacts_mode="direct")
    with TestClient(create_app(settings), base_url="http://heron.test") as http:
        client = heron.Client(transport=HttpTransport("http://heron.test", http_client=http))
        run = client.create_run(client.get_or_create_experiment("big").id)
        size = 2 * BLOCK_SIZE + MiB
        with (tmp_path / "weights.bin").open("wb") as sink:
            for _ in range(size // MiB):
                sink.write(os.urandom(MiB))
        client.log_artifact(run.id, tmp_path / "weights.bin")

        (listed,) = client.list_artifacts(run.id)
        assert listed.size == size
        assert listed.sha256 == hashlib.sha256((tmp_path / "weights.bin").read_bytes()).hexdigest()
        fs = s3fs.S3FileSystem()
        etag = fs.info(f"{run.artifact_uri}/weights.bin")["ETag"].strip('"')
        assert etag.endswith("-3"), etag  # three parts: the file was never sent whole
        copy = client.download_artifacts(run.id, "weights.bin", tmp_path / "copy")
        assert copy.read_bytes() == (tmp_path / "weights.bin").read_bytes()


# -- the server's side of direct mode ---------------------------------------------------


@pytest.fixture
def direct(tmp_path: Path) -> Iterator[tuple[TestClient, str, Path]]:
    """A direct-mode server on a local folder, and one of its runs."""
    settings = ServerSettings(
        f"sqlite:///{tmp_path / 'heron.db'}",
        str(tmp_path / "artifacts"),
        max_request_bytes=200_000,
        artifacts_mode="direct",
    )
    with TestClient(create_app(settings)) as http:
        eid = http.post(f"{API}/experiments", json={"name": "e"}).json()["id"]
        run = http.post(f"{API}/runs", json={"experiment_id": eid}).json()
        yield http, run["id"], Path(run["artifact_uri"])


def _record(http: TestClient, run_id: str, *files: dict[str, Any]) -> httpx.Response:
    return http.post(f"{API}/runs/{run_id}/artifacts/checksums", json={"files": list(files)})


def _error(response: httpx.Response, status: int, code: str, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert text in response.json()["error"]["message"]


def test_records_must_describe_files_in_the_store(
    direct: tuple[TestClient, str, Path],
) -> None:
    http, run_id, root = direct
    assert http.get(f"{API}/artifacts/config").json() == {"mode": "direct"}
    digest = hashlib.sha256(b"12345").hexdigest()
    entry = {"path": "data/x.bin", "size": 5, "sha256": digest}

    # Written to another store (or not at all): the server says where it looked.
    _error(_record(http, run_id, entry), 404, "NOT_FOUND", str(root))
    (root / "data").mkdir(parents=True)
    (root / "data" / "x.bin").write_bytes(b"12345")
    _error(_record(http, run_id, {**entry, "size": 6}), 409, "CONFLICT", "has 5 bytes")
    _error(_record(http, run_id, {**entry, "sha256": "abc"}), 400, "INVALID_ARGUMENT", "sha256")
    bad_path = {**entry, "path": "../x.bin"}
    _error(_record(http, run_id, bad_path), 400, "INVALID_ARGUMENT", "artifact path")
    too_many = [entry] * 1001
    _error(_record(http, run_id, *too_many), 400, "INVALID_ARGUMENT", "limit is 1000")
    # A JSON body like any other: held to the server's request size limit.
    _error(_record(http, run_id, *too_many * 2), 413, "INVALID_ARGUMENT", "200000 bytes")
    assert http.get(f"{API}/runs/{run_id}/artifacts/checksums").json() == {"checksums": {}}

    assert _record(http, run_id, {**entry, "sha256": digest.upper()}).status_code == 204
    checksums = http.get(f"{API}/runs/{run_id}/artifacts/checksums", params={"path": "data"})
    assert checksums.json() == {"checksums": {"data/x.bin": digest}}
    listed = http.get(f"{API}/runs/{run_id}/artifacts", params={"path": "data"}).json()
    assert listed["files"][0]["sha256"] == digest

    http.delete(f"{API}/runs/{run_id}")
    _error(_record(http, run_id, entry), 400, "INVALID_ARGUMENT", "deleted")
    _error(http.get(f"{API}/runs/nope/artifacts/checksums"), 404, "NOT_FOUND", "nope")


def test_a_proxy_server_takes_no_records(tmp_path: Path) -> None:
    settings = ServerSettings(f"sqlite:///{tmp_path / 'heron.db'}", str(tmp_path / "artifacts"))
    with TestClient(create_app(settings)) as http:
        assert http.get(f"{API}/artifacts/config").json() == {"mode": "proxy"}
        eid = http.post(f"{API}/experiments", json={"name": "e"}).json()["id"]
        run_id = http.post(f"{API}/runs", json={"experiment_id": eid}).json()["id"]
        entry = {"path": "x.bin", "size": 1, "sha256": "0" * 64}
        _error(_record(http, run_id, entry), 400, "INVALID_ARGUMENT", "--artifacts-mode direct")


def test_settings_read_the_mode_and_refuse_unknown_ones(tmp_path: Path) -> None:
    location = {"HERON_SERVER_BACKEND_STORE_URI": f"sqlite:///{tmp_path / 'h.db'}"}
    assert ServerSettings.from_environment(location).artifacts_mode is ArtifactsMode.PROXY
    direct = ServerSettings.from_environment({**location, ARTIFACTS_MODE_ENV: "direct"})
    assert direct.artifacts_mode is ArtifactsMode.DIRECT
    with pytest.raises(InvalidArgument, match="'proxy', 'direct'"):
        ServerSettings.from_environment({**location, ARTIFACTS_MODE_ENV: "s3"})


def test_direct_mode_makes_a_relative_local_root_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients open run artifact URIs from their own working directory."""
    monkeypatch.chdir(tmp_path)
    direct = ServerSettings.for_location("srv", "srv/artifacts", artifacts_mode="direct")
    assert direct.default_artifact_root == str(tmp_path / "srv" / "artifacts")
    proxy = ServerSettings.for_location("srv", "srv/artifacts")
    assert proxy.default_artifact_root == "srv/artifacts"


@pytest.mark.slow
def test_heron_server_direct_mode_end_to_end(
    tmp_path: Path, aws_environment: dict[str, str], s3_server: MotoS3Server
) -> None:
    """`heron server --artifacts-mode direct` on S3; a training script with its own AWS
    variables writes there, and another process downloads and verifies."""
    bucket = s3_server.create_bucket()
    options = ["--artifacts-destination", f"s3://{bucket}/heron", "--artifacts-mode", "direct"]
    server = LiveServer(tmp_path / "server", extra_args=options)
    server.start()
    try:
        script = textwrap.dedent(
            """
            import sys, heron
            heron.set_experiment("direct")
            with heron.start_run() as run:
                heron.log_text("direct to the store", "notes/readme.txt")
            print(run.id)
            """
        )
        env = {**os.environ, "HERON_TRACKING_URI": server.url}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        run_id = done.stdout.strip()
        with heron.Client(server.url) as client:
            run = client.get_run(run_id)
            assert run.artifact_uri.startswith(f"s3://{bucket}/heron/")
            copy = client.download_artifacts(run_id, "notes", tmp_path / "copy")
        assert (copy / "readme.txt").read_text() == "direct to the store"
        assert s3fs.S3FileSystem().cat(f"{run.artifact_uri}/notes/readme.txt") == (
            b"direct to the store"
        )
    finally:
        server.stop()
