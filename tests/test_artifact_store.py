"""One artifact-store suite over every backend: the local filesystem and S3 (moto's server)."""

from __future__ import annotations

import hashlib
import io
import os
import random
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
import s3fs

from heron.artifacts import ArtifactRepository, StoredArtifact, artifact_repository
from heron.artifacts.fsspec_repository import BLOCK_SIZE
from heron.entities import FileInfo
from heron.errors import InvalidArgument, NotFound
from s3_server import MotoS3Server

MiB = 1 << 20


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoS3Server]:
    # No skip, in CI or out: moto is a test dependency, so a failure to start is a failure.
    server = MotoS3Server()
    yield server
    server.stop()


@dataclass
class Backend:
    name: str
    root_uri: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    def repository(self, **extra_options: Any) -> ArtifactRepository:
        return artifact_repository(self.root_uri, {**self.storage_options, **extra_options})


@pytest.fixture
def s3_backend(
    s3_server: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """A fresh bucket, configured by explicit storage options."""
    # Keep the developer's own AWS setup (profiles, endpoints, keys) out of the test.
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    bucket = s3_server.create_bucket()
    yield Backend("s3", f"s3://{bucket}/run-1/artifacts", s3_server.storage_options())
    s3_server.reset()


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return Backend("local", str(tmp_path / "store" / "run-1" / "artifacts"))
    s3: Backend = request.getfixturevalue("s3_backend")
    return s3


@pytest.fixture
def repo(backend: Backend) -> ArtifactRepository:
    return backend.repository()


class Generated(io.RawIOBase):
    """``size`` pseudo-random bytes, made as they are read, hashed on the way out."""

    def __init__(self, size: int, fail_after: int | None = None) -> None:
        self.remaining = size
        self.fail_after = fail_after
        self.produced = 0
        self.sha256 = hashlib.sha256()
        self._random = random.Random(size)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.fail_after is not None and self.produced >= self.fail_after:
            raise StreamBroke("the client went away")
        count = self.remaining if size < 0 else min(size, self.remaining)
        chunk = self._random.randbytes(count)
        self.remaining -= count
        self.produced += count
        self.sha256.update(chunk)
        return chunk


class StreamBroke(Exception):
    pass


def write_bytes(repo: ArtifactRepository, path: str, data: bytes) -> StoredArtifact:
    return repo.write_stream(path, io.BytesIO(data))


def read_bytes(repo: ArtifactRepository, path: str) -> bytes:
    with repo.open_read(path) as handle:
        return handle.read()


def test_write_stream_reports_size_and_sha256(repo: ArtifactRepository) -> None:
    data = b"weights" * 1000
    stored = write_bytes(repo, "./models//model.bin", data)
    assert stored == StoredArtifact("models/model.bin", len(data), hashlib.sha256(data).hexdigest())
    assert read_bytes(repo, "models/model.bin") == data
    assert write_bytes(repo, "empty.txt", b"").sha256 == hashlib.sha256(b"").hexdigest()
    assert read_bytes(repo, "empty.txt") == b""
    with pytest.raises(InvalidArgument, match="file path"):
        write_bytes(repo, ".", b"x")


def test_verify_checks_content_against_a_digest(repo: ArtifactRepository) -> None:
    stored = write_bytes(repo, "data.csv", b"a,b\n1,2\n")
    assert repo.verify("data.csv", stored.sha256)
    assert repo.verify("data.csv", stored.sha256.upper())
    write_bytes(repo, "data.csv", b"a,b\n1,3\n")
    assert not repo.verify("data.csv", stored.sha256)
    with pytest.raises(InvalidArgument, match="sha256"):
        repo.verify("data.csv", "d41d8cd98f00b204e9800998ecf8427e")  # an md5
    with pytest.raises(NotFound):
        repo.verify("missing.csv", stored.sha256)


def test_upload_file_and_dir(repo: ArtifactRepository, tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"\x00" * 100)
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(b"a")
    (folder / "sub" / "b.png").write_bytes(b"bb")
    repo.upload_file(tmp_path / "model.pkl", "model.pkl")
    repo.upload_dir(folder, "plots")
    repo.upload_dir(folder, "")
    assert repo.list() == [
        FileInfo("a.png", False, 1),
        FileInfo("model.pkl", False, 100),
        FileInfo("plots", True, None),
        FileInfo("sub", True, None),
    ]
    assert repo.list("plots") == [
        FileInfo("plots/a.png", False, 1),
        FileInfo("plots/sub", True, None),
    ]
    assert repo.list("plots/sub") == [FileInfo("plots/sub/b.png", False, 2)]
    assert read_bytes(repo, "plots/sub/b.png") == b"bb"


def test_list_of_missing_paths_and_files_is_empty(repo: ArtifactRepository) -> None:
    assert repo.list() == []
    write_bytes(repo, "dir/file.txt", b"x")
    assert repo.list("nothing-here") == []
    assert repo.list("dir/file.txt") == []
    assert repo.list("di") == []  # a key prefix that is not a path component


def test_listings_are_never_stale(backend: Backend) -> None:
    reader = backend.repository()
    assert reader.list() == []
    # A separate filesystem instance stands in for another process writing to the store.
    writer = backend.repository(skip_instance_cache=True)
    write_bytes(writer, "late/arrival.txt", b"hi")
    assert reader.list() == [FileInfo("late", True, None)]
    assert reader.list("late") == [FileInfo("late/arrival.txt", False, 2)]
    write_bytes(writer, "late/arrival.txt", b"hello")
    assert reader.list("late") == [FileInfo("late/arrival.txt", False, 5)]
    assert read_bytes(reader, "late/arrival.txt") == b"hello"


def test_open_read_streams(repo: ArtifactRepository) -> None:
    data = Generated(3 * MiB + 17).read()
    write_bytes(repo, "blob.bin", data)
    with repo.open_read("blob.bin") as handle:
        assert handle.read(10) == data[:10]
        pieces = [data[:10]]
        while piece := handle.read(MiB):
            assert len(piece) <= MiB
            pieces.append(piece)
    assert b"".join(pieces) == data


def test_download_file_and_folder(repo: ArtifactRepository, tmp_path: Path) -> None:
    write_bytes(repo, "meta/info.json", b"{}")
    write_bytes(repo, "plots/a.png", b"a")
    write_bytes(repo, "plots/sub/b.png", b"bb")
    out = tmp_path / "out"
    info = repo.download("meta/info.json", out)
    assert info == out / "info.json"
    assert info.read_bytes() == b"{}"
    plots = repo.download("plots", out)
    assert plots == out / "plots"
    assert sorted(p.relative_to(plots).as_posix() for p in plots.rglob("*") if p.is_file()) == [
        "a.png",
        "sub/b.png",
    ]
    everything = repo.download("", tmp_path / "all")
    assert (everything / "plots" / "sub" / "b.png").read_bytes() == b"bb"
    assert (everything / "meta" / "info.json").read_bytes() == b"{}"


def test_missing_artifacts_raise_not_found(repo: ArtifactRepository, tmp_path: Path) -> None:
    write_bytes(repo, "dir/file.txt", b"x")
    with pytest.raises(NotFound, match="no artifact"):
        repo.open_read("nope.txt")
    with pytest.raises(NotFound, match="no artifact"):
        repo.open_read("dir")  # a directory is not a file to read
    with pytest.raises(NotFound, match="no artifact"):
        repo.download("nope", tmp_path / "out")
    assert not (tmp_path / "out" / "nope").exists()


@pytest.mark.parametrize("bad", ["../escape", "/etc/passwd", "a/../../b", "a\\b", "a\x00b"])
def test_paths_cannot_escape_the_root(repo: ArtifactRepository, tmp_path: Path, bad: str) -> None:
    (tmp_path / "x.txt").write_text("x")
    calls: list[Callable[[], object]] = [
        lambda: repo.write_stream(bad, io.BytesIO(b"x")),
        lambda: repo.upload_file(tmp_path / "x.txt", bad),
        lambda: repo.open_read(bad),
        lambda: repo.list(bad),
        lambda: repo.download(bad, tmp_path / "out"),
        lambda: repo.verify(bad, "0" * 64),
    ]
    for call in calls:
        with pytest.raises(InvalidArgument, match="artifact path"):
            call()
    assert repo.list() == []
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize("size", [100, 12 * MiB], ids=["small", "multipart"])
def test_failed_write_leaves_nothing_visible(repo: ArtifactRepository, size: int) -> None:
    write_bytes(repo, "kept.bin", b"original")
    for path in ("new.bin", "kept.bin"):
        with pytest.raises(StreamBroke):
            repo.write_stream(path, cast(BinaryIO, Generated(size * 2, fail_after=size)))
    assert repo.list() == [FileInfo("kept.bin", False, 8)]
    assert read_bytes(repo, "kept.bin") == b"original"
    with pytest.raises(NotFound):
        repo.open_read("new.bin")


def test_s3_failed_multipart_write_is_aborted(s3_server: MotoS3Server, s3_backend: Backend) -> None:
    repo = s3_backend.repository()
    stream = Generated(4 * BLOCK_SIZE, fail_after=2 * BLOCK_SIZE)
    with pytest.raises(StreamBroke):
        repo.write_stream("big.bin", cast(BinaryIO, stream))
    fs = s3fs.S3FileSystem(**s3_server.storage_options())
    bucket = s3_backend.root_uri.removeprefix("s3://").split("/")[0]
    assert fs.list_multipart_uploads(bucket) == []
    assert fs.call_s3("list_objects_v2", Bucket=bucket).get("KeyCount") == 0


def test_s3_directory_markers_are_not_listed(s3_server: MotoS3Server, s3_backend: Backend) -> None:
    repo = s3_backend.repository()
    write_bytes(repo, "plots/a.png", b"a")
    # The S3 console and some tools create "folders" as empty objects named "prefix/".
    fs = s3fs.S3FileSystem(**s3_server.storage_options())
    root = s3_backend.root_uri.removeprefix("s3://")
    for marker in ("", "plots/", "empty/"):
        fs.pipe_file(f"{root}/{marker}", b"")
    assert repo.list() == [FileInfo("empty", True, None), FileInfo("plots", True, None)]
    assert repo.list("plots") == [FileInfo("plots/a.png", False, 1)]
    assert repo.list("empty") == []


def test_s3_configured_by_standard_environment(
    s3_server: MotoS3Server, s3_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_server.environment().items():
        monkeypatch.setenv(name, value)
    # A private filesystem instance, so this environment-built client is not cached for others.
    repo = artifact_repository(s3_backend.root_uri, {"skip_instance_cache": True})
    write_bytes(repo, "env.txt", b"from the environment")
    assert read_bytes(s3_backend.repository(), "env.txt") == b"from the environment"


def test_s3_large_stream_is_multipart_with_bounded_memory(
    s3_server: MotoS3Server, s3_backend: Backend
) -> None:
    size = 50 * MiB
    repo = s3_backend.repository()
    # Set up the S3 client (botocore loads its service model once) before measuring.
    write_bytes(repo, "warm-up.txt", b"x")
    source = Generated(size)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        stored = repo.write_stream("big/model.bin", cast(BinaryIO, source))
        current, peak = tracemalloc.get_traced_memory()
        write_growth = peak - before
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with repo.open_read("big/model.bin") as handle:
            while chunk := handle.read(MiB):
                digest.update(chunk)
        read_growth = tracemalloc.get_traced_memory()[1] - current
    finally:
        tracemalloc.stop()
    assert stored == StoredArtifact("big/model.bin", size, source.sha256.hexdigest())
    assert digest.hexdigest() == stored.sha256
    # A few part-sized buffers (about 26 MiB measured: s3fs's buffer, the part, aiohttp's
    # copy of it), never the whole object.
    assert write_growth < 4 * BLOCK_SIZE < size, write_growth
    assert read_growth < 4 * BLOCK_SIZE < size, read_growth
    fs = s3fs.S3FileSystem(**s3_server.storage_options())
    etag = fs.info(f"{s3_backend.root_uri}/big/model.bin")["ETag"]
    # A multipart object's ETag ends in "-<number of parts>"; a single PUT's has no dash.
    assert etag.strip('"').endswith(f"-{-(-size // BLOCK_SIZE)}"), etag
    assert repo.list("big") == [FileInfo("big/model.bin", False, size)]
