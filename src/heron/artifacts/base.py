"""The artifact store interface: blobs under a root URI, addressed by relative paths."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from heron.entities import FileInfo
from heron.errors import InvalidArgument

CHUNK_SIZE = 1 << 20  # 1 MiB: big enough for throughput, small enough to stream anything
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


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

    def verify(self, artifact_path: str, sha256: str) -> bool:
        """Whether the artifact's content still hashes to ``sha256`` (as ``write_stream`` said).

        A separate call rather than a verifying ``open_read``: a reader can only judge at end
        of file, after its bytes were already handed on, so the check would come too late to
        act on. This reads the whole artifact; raises NotFound if it does not exist.
        """
        expected = sha256.lower()
        if not _SHA256_HEX.fullmatch(expected):
            raise InvalidArgument(f"{sha256!r} is not a sha256 digest (64 hexadecimal digits)")
        with self.open_read(artifact_path) as source:
            return copy_stream(source)[1] == expected
