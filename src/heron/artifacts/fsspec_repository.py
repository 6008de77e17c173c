"""Artifact repositories on fsspec: the local filesystem and any remote one (S3, ...)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import fsspec

from heron.artifacts.base import (
    ArtifactRepository,
    StoredArtifact,
    clean_artifact_path,
    copy_stream,
)
from heron.entities import FileInfo
from heron.errors import InvalidArgument, NotFound

# Remote read-ahead and multipart part size. s3fs defaults to 50 MiB, which would hold a
# 50 MiB upload whole in memory and send it as one PUT; 8 MiB (the AWS CLI's part size)
# bounds memory to a few blocks and still allows 80 GB objects within S3's 10,000 parts.
BLOCK_SIZE = 8 << 20
TEMP_PREFIX = ".heron-upload-"


class FsspecArtifactRepository(ArtifactRepository):
    """Artifacts under a local path or any fsspec URL.

    ``storage_options`` go to the fsspec filesystem, e.g. for S3
    ``{"client_kwargs": {"endpoint_url": ...}, "key": ..., "secret": ...}``; without them
    s3fs/botocore read the standard AWS variables and files (AWS_ENDPOINT_URL, ...).
    """

    def __init__(self, root_uri: str, storage_options: Mapping[str, Any] | None = None) -> None:
        super().__init__(root_uri)
        options = dict(storage_options or {})
        # Other writers (server replicas, clients uploading directly) change the store behind
        # this process's back, so a cached listing could hide their artifacts. Filesystem
        # instances stay cached by fsspec: they hold the connection pool.
        options.setdefault("use_listings_cache", False)
        fs, root = fsspec.core.url_to_fs(self.root_uri, **options)
        self._fs: Any = fs
        self._root: str = root.rstrip("/")
        self._is_local = "file" in (
            fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        )

    def _full(self, artifact_path: str) -> str:
        clean = clean_artifact_path(artifact_path)
        return f"{self._root}/{clean}" if clean else self._root

    def upload_file(self, local_file: Path, artifact_path: str) -> StoredArtifact:
        # Through write_stream rather than fs.put_file: s3fs's put_file reads files under
        # 2 x its chunk size whole into memory; this way every write has the same guarantees.
        with local_file.open("rb") as source:
            return self.write_stream(artifact_path, source)

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> StoredArtifact:
        clean = clean_artifact_path(artifact_path)
        if not clean:
            # S3 would store an object named like the root prefix; a folder refuses it.
            raise InvalidArgument("an artifact write needs a file path, e.g. plots/roc.png")
        target = self._full(clean)
        if self._is_local:
            try:
                size, sha256 = _write_local(target, stream)
            except (IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
                raise InvalidArgument(
                    f"cannot store artifact {clean!r}: a file and a folder would share a name "
                    "(a folder exists where the file goes, or a file where a folder is needed)"
                ) from exc
            except OSError as exc:
                if exc.errno != errno.ENAMETOOLONG:
                    raise
                raise InvalidArgument(
                    f"artifact path {clean[:60]!r}... is too long for the artifact store"
                ) from exc
        else:
            size, sha256 = self._write_remote(target, stream)
        return StoredArtifact(clean, size, sha256)

    def _write_remote(self, target: str, stream: BinaryIO) -> tuple[int, str]:
        sink = self._fs.open(target, "wb", block_size=BLOCK_SIZE)
        try:
            written = copy_stream(stream, sink)
            sink.close()  # publishes the object: completes the multipart upload or PUTs it
        except BaseException:
            _abandon(sink)
            raise
        return written

    def open_read(self, artifact_path: str) -> BinaryIO:
        source = self._full(artifact_path)
        if not self._fs.isfile(source):
            raise NotFound(f"no artifact file at {artifact_path!r} under {self.root_uri}")
        # Remote files fetch block_size ahead of each read: this bounds what a reader holds.
        handle: BinaryIO = self._fs.open(source, "rb", block_size=BLOCK_SIZE)
        return handle

    def list(self, artifact_path: str = "") -> list[FileInfo]:
        base = self._full(artifact_path)
        if not self._fs.isdir(base):
            return []
        prefix = clean_artifact_path(artifact_path)
        infos = []
        for entry in self._fs.ls(base, detail=True):
            full_name = entry["name"].rstrip("/")
            # Object stores have no directories: tools that fake one leave an empty
            # "prefix/" marker object, which s3fs lists as a file inside the prefix itself.
            if full_name == base:
                continue
            name = full_name.rsplit("/", 1)[-1]
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

    def delete(self, artifact_path: str) -> None:
        target = self._full(artifact_path)
        if not self._fs.exists(target):
            raise NotFound(f"no artifact at {artifact_path!r} under {self.root_uri}")
        self._fs.rm(target, recursive=True)

    def download(self, artifact_path: str, destination: Path) -> Path:
        source = self._full(artifact_path)
        if not self._fs.exists(source):
            raise NotFound(f"no artifact at {artifact_path!r} under {self.root_uri}")
        name = clean_artifact_path(artifact_path).rsplit("/", 1)[-1] or "artifacts"
        target = destination / name
        destination.mkdir(parents=True, exist_ok=True)
        if self._fs.isdir(source):
            # The trailing "/" copies the prefix's contents into target, not target/name.
            self._fs.get(source + "/", str(target), recursive=True)
        else:
            self._fs.get_file(source, str(target))
        return target


def _write_local(target: str, stream: BinaryIO) -> tuple[int, str]:
    # Write to a temporary name beside the target, then rename: readers never see a
    # half-written file, and a crash leaves only a stray temp file (which list() hides).
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as sink:
            written = copy_stream(stream, sink)
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return written


def _abandon(sink: Any) -> None:
    """Drop a half-written remote file without publishing it.

    fsspec's buffered files publish whatever was written when closed, so closing is what must
    not happen. discard() aborts the upload (on S3, AbortMultipartUpload: a multipart object
    is invisible until completed) and marking the file closed stops __del__ closing it later.
    """
    # The caller re-raises the error that matters; a failed abort leaves an invisible
    # incomplete upload, which a bucket's AbortIncompleteMultipartUpload rule reclaims.
    with contextlib.suppress(Exception):
        sink.discard()
    sink.closed = True


def artifact_repository(
    root_uri: str, storage_options: Mapping[str, Any] | None = None
) -> ArtifactRepository:
    """The repository for a root URI: a local path, ``file://``, ``s3://``, ...

    ``storage_options`` configure the filesystem explicitly (endpoint, credentials, ...).
    """
    return FsspecArtifactRepository(root_uri, storage_options)
