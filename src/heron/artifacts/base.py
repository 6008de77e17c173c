"""The artifact store interface: blobs under a root URI, addressed by relative paths."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from heron.entities import FileInfo
from heron.errors import InvalidArgument


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


class ArtifactRepository(ABC):
    """The artifacts of one run (or any root): upload, list, download."""

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri.rstrip("/")

    @abstractmethod
    def upload_file(self, local_file: Path, artifact_path: str) -> None:
        """Store ``local_file`` at ``artifact_path`` (a relative path including the file name)."""

    def upload_dir(self, local_dir: Path, artifact_path: str) -> None:
        for file in sorted(p for p in local_dir.rglob("*") if p.is_file()):
            relative = file.relative_to(local_dir).as_posix()
            self.upload_file(file, f"{artifact_path}/{relative}" if artifact_path else relative)

    @abstractmethod
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        """Store what ``stream`` yields at ``artifact_path`` atomically; return the byte count.

        Reads in chunks, so a file of any size never sits in memory.
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
