"""Model archives (.tar, .tar.gz, .tgz, .zip): written from a directory, unpacked safely.

Unpacking refuses, before writing anything, any entry that is absolute, climbs out
with ``..``, or is a link or device: an archive is untrusted input, and a single such
entry could overwrite a file anywhere the process may write.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from heron.errors import InvalidArgument, PermissionDenied

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _check_name(archive: Path, name: str) -> None:
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise PermissionDenied(f"archive {archive.name} has an absolute path entry {name!r}")
    if ".." in posix.parts:
        raise PermissionDenied(f"archive {archive.name} has an entry leaving its folder: {name!r}")


def unpack(archive: Path, destination: Path) -> None:
    """Unpack ``archive`` into the empty folder ``destination``, refusing unsafe entries."""
    if archive.name.lower().endswith(".zip"):
        _unpack_zip(archive, destination)
    else:
        _unpack_tar(archive, destination)


def _unpack_tar(archive: Path, destination: Path) -> None:
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                _check_name(archive, member.name)
                if not (member.isfile() or member.isdir()):
                    raise PermissionDenied(
                        f"archive {archive.name} has a link or special file {member.name!r}; "
                        "model archives may hold only files and folders"
                    )
            # "data" also refuses what the checks above refuse; they run first so the
            # message is ours and nothing is written from a bad archive.
            tar.extractall(destination, members=members, filter="data")
    except tarfile.TarError as error:
        raise InvalidArgument(f"{archive.name} is not a readable tar archive: {error}") from None


def _unpack_zip(archive: Path, destination: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as package:
            infos = package.infolist()
            for info in infos:
                _check_name(archive, info.filename)
                mode = info.external_attr >> 16
                if mode & 0o170000 not in (0, 0o100000, 0o040000):
                    raise PermissionDenied(
                        f"archive {archive.name} has a link or special file {info.filename!r}"
                    )
            package.extractall(destination)
    except zipfile.BadZipFile as error:
        raise InvalidArgument(f"{archive.name} is not a readable zip archive: {error}") from None


def pack(directory: Path, archive: Path) -> Path:
    """Write ``directory``'s contents into a .tar.gz or .zip archive (by its suffix)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as package:
            for path in files:
                package.write(path, path.relative_to(directory).as_posix())
        return archive
    if not archive.name.lower().endswith(ARCHIVE_SUFFIXES):
        raise InvalidArgument(f"archive name must end with one of {', '.join(ARCHIVE_SUFFIXES)}")
    with (
        tarfile.open(archive, "w")
        if archive.name.lower().endswith(".tar")
        else tarfile.open(archive, "w:gz") as tar
    ):
        for path in files:
            tar.add(path, path.relative_to(directory).as_posix(), recursive=False)
    return archive
