"""The artifact store interface: blobs under a root URI, addressed by relative paths."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from heron.entities import FileInfo
from heron.errors import DataCorrupted, InvalidArgument, NotFound

CHUNK_SIZE = 1 << 20  # 1 MiB: big enough for throughput, small enough to stream anything
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ArtifactsMode(str, Enum):
    """Who moves a tracking server's artifact bytes.

    PROXY: clients send and fetch them through the server, which alone needs access to the
    store. DIRECT: clients write and read the store themselves, with their own credentials,
    and the server only keeps the record (paths, sizes, sha256).
    """

    PROXY = "proxy"
    DIRECT = "direct"


@dataclass(frozen=True)
class StoredArtifact:
    """What a write stored: where, how many bytes, and the sha256 (hex) of those bytes."""

    path: str  # relative to the repository root, "/"-separated
    size: int
    sha256: str


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def clean_artifact_path(path: str | None) -> str:
    """Normalize a relative artifact path; refuse anything that could escape the run's root."""
    if path is None or path in ("", "."):
        return ""
    if "\\" in path or "\x00" in path:
        raise InvalidArgument(f"invalid artifact path {path!r}: use '/' as separator")
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part == ".." for part in pure.parts):
        raise InvalidArgument(
            f"invalid artifact path {path!r}: it must be relative and must not contain '..'"
        )
    return "/".join(part for part in pure.parts if part != ".")


def copy_stream(source: BinaryIO, sink: _Sink | None = None) -> tuple[int, str]:
    """Copy ``source`` to ``sink`` (if any) chunk by chunk; return the byte count and sha256.

    Hashing while copying costs no second read of data that may be gigabytes on a remote store.
    """
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def require_sha256(sha256: str) -> str:
    """``sha256`` in lower case, if it is a hex digest; else InvalidArgument."""
    digest = sha256.lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise InvalidArgument(f"{sha256!r} is not a sha256 digest (64 hexadecimal digits)")
    return digest


def sha256_of_file(path: Path) -> str:
    with path.open("rb") as source:
        return copy_stream(source)[1]


def verify_download(
    downloaded: Path, artifact_path: str, checksums: Mapping[str, str], owner: str
) -> None:
    """Check the files of a download against the sha256 recorded when they were stored.

    ``downloaded`` is the local copy of ``artifact_path`` (a file or a folder) and
    ``checksums`` maps stored paths at or under it to their digests. A file that does not
    match is deleted and DataCorrupted raised; files without a record are left as they are.
    """
    for stored_path, sha256 in checksums.items():
        if stored_path == artifact_path:
            local = downloaded
        else:
            local = downloaded / stored_path[len(artifact_path) :].lstrip("/")
        if local.is_file() and sha256_of_file(local) != sha256:
            local.unlink()
            raise DataCorrupted(
                f"artifact {stored_path!r} of {owner} does not match the checksum recorded "
                "when it was stored: the stored copy is damaged or was changed"
            )


class ArtifactRepository(ABC):
    """The artifacts of one run (or any root): upload, list, download."""

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri.rstrip("/")

    @abstractmethod
    def upload_file(self, local_file: Path, artifact_path: str) -> StoredArtifact:
        """Store ``local_file`` at ``artifact_path`` (a relative path including the file name)."""

    def upload_dir(self, local_dir: Path, artifact_path: str) -> list[StoredArtifact]:
        stored = []
        for file in sorted(p for p in local_dir.rglob("*") if p.is_file()):
            relative = file.relative_to(local_dir).as_posix()
            target = f"{artifact_path}/{relative}" if artifact_path else relative
            stored.append(self.upload_file(file, target))
        return stored

    def upload(self, local: Path, artifact_path: str) -> list[StoredArtifact]:
        """Store a file (as ``artifact_path/<its name>``) or a folder's contents (under
        ``artifact_path``), as ``log_artifact`` means it."""
        if local.is_dir():
            return self.upload_dir(local, artifact_path)
        if local.is_file():
            name = f"{artifact_path}/{local.name}" if artifact_path else local.name
            return [self.upload_file(local, name)]
        raise NotFound(f"cannot log artifact {str(local)!r}: no such file or directory")

    @abstractmethod
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> StoredArtifact:
        """Store what ``stream`` yields at ``artifact_path`` atomically.

        Reads in chunks, so a file of any size never sits in memory. If reading the stream or
        writing fails, no partial artifact becomes visible (an existing one stays as it was).
        """

    @abstractmethod
    def open_read(self, artifact_path: str) -> BinaryIO:
        """A binary file object reading the artifact; the caller closes it.

        Raises NotFound if there is no file at ``artifact_path``.
        """

    @abstractmethod
    def list(self, artifact_path: str = "") -> list[FileInfo]:
        """Direct children of ``artifact_path``; empty if it does not exist."""

    @abstractmethod
    def download(self, artifact_path: str, destination: Path) -> Path:
        """Copy a file or directory to ``destination`` (a folder) and return the local path."""

    @abstractmethod
    def delete(self, artifact_path: str) -> None:
        """Remove the file or folder at ``artifact_path`` ("" for everything); NotFound
        if nothing is there."""

    def verify(self, artifact_path: str, sha256: str) -> bool:
        """Whether the artifact's content still hashes to ``sha256`` (as ``write_stream`` said).

        A separate call rather than a verifying ``open_read``: a reader can only judge at end
        of file, after its bytes were already handed on, so the check would come too late to
        act on. This reads the whole artifact; raises NotFound if it does not exist.
        """
        expected = require_sha256(sha256)
        with self.open_read(artifact_path) as source:
            return copy_stream(source)[1] == expected
