"""Artifact repositories on fsspec: the local filesystem and any remote one (S3, ...)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import fsspec

from heron.artifacts.base import ArtifactRepository, clean_artifact_path
from heron.entities import FileInfo
from heron.errors import NotFound

CHUNK_SIZE = 1 << 20  # 1 MiB: big enough for throughput, small enough to stream anything
TEMP_PREFIX = ".heron-upload-"


class FsspecArtifactRepository(ArtifactRepository):
    def __init__(self, root_uri: str) -> None:
        super().__init__(root_uri)
        fs, root = fsspec.core.url_to_fs(self.root_uri)
        self._fs: Any = fs
        self._root: str = root.rstrip("/")
        self._is_local = "file" in (
            fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        )

    def _full(self, artifact_path: str) -> str:
        clean = clean_artifact_path(artifact_path)
        return f"{self._root}/{clean}" if clean else self._root

    def upload_file(self, local_file: Path, artifact_path: str) -> None:
        if self._is_local:
            with local_file.open("rb") as source:
                self.write_stream(artifact_path, source)
            return
        self._fs.put_file(str(local_file), self._full(artifact_path))

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        target = self._full(artifact_path)
        if not self._is_local:
            written = 0
            with self._fs.open(target, "wb") as sink:
                while chunk := stream.read(CHUNK_SIZE):
                    sink.write(chunk)
                    written += len(chunk)
            return written
        # Write to a temporary name beside the target, then rename: readers never see a
        # half-written file, and a crash leaves only a stray temp file.
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)
        written = 0
        try:
            with os.fdopen(fd, "wb") as sink:
                while chunk := stream.read(CHUNK_SIZE):
                    sink.write(chunk)
                    written += len(chunk)
            os.replace(temp, target)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
        return written

    def open_read(self, artifact_path: str) -> BinaryIO:
        source = self._full(artifact_path)
        if not self._fs.isfile(source):
            raise NotFound(f"no artifact file at {artifact_path!r} under {self.root_uri}")
        handle: BinaryIO = self._fs.open(source, "rb")
        return handle

    def list(self, artifact_path: str = "") -> list[FileInfo]:
        base = self._full(artifact_path)
        if not self._fs.isdir(base):
            return []
        prefix = clean_artifact_path(artifact_path)
        infos = []
        for entry in self._fs.ls(base, detail=True):
            name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
            if name.startswith(TEMP_PREFIX):
                continue
            is_dir = entry["type"] == "directory"
            infos.append(
                FileInfo(
                    path=f"{prefix}/{name}" if prefix else name,
                    is_dir=is_dir,
                    size=None if is_dir else int(entry.get("size") or 0),
                )
            )
        return sorted(infos, key=lambda info: info.path)

    def download(self, artifact_path: str, destination: Path) -> Path:
        source = self._full(artifact_path)
        if not self._fs.exists(source):
            raise NotFound(f"no artifact at {artifact_path!r} under {self.root_uri}")
        name = clean_artifact_path(artifact_path).rsplit("/", 1)[-1] or "artifacts"
        target = destination / name
        destination.mkdir(parents=True, exist_ok=True)
        if self._fs.isdir(source):
            self._fs.get(source + "/", str(target), recursive=True)
        else:
            self._fs.get_file(source, str(target))
        return target


def artifact_repository(root_uri: str) -> ArtifactRepository:
    """The repository for a root URI: a local path, ``file://``, ``s3://``, ..."""
    return FsspecArtifactRepository(root_uri)
