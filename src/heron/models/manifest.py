"""The ``heron-model.yaml`` manifest: reading, writing and verifying a model directory.

The format is documented in docs/model-format.md. A manifest names the model's
flavors, signature, input example, environment and metadata, and the SHA-256 of every
other file in the directory, so that a loader can refuse a changed or added file
before it deserializes anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from heron.errors import DataCorrupted, InvalidArgument, NotFound
from heron.models.signature import Signature

# libyaml's parser where PyYAML has it: reading a manifest took 5 ms in pure Python.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MANIFEST_FILE = "heron-model.yaml"
FORMAT_VERSION = 1
# Older versions this reader can upgrade in memory; none yet. A migration takes the raw
# manifest dict of version N and returns it as version N + 1.
_MIGRATIONS: dict[int, Any] = {}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """A model directory's manifest. ``flavors`` is ordered: the first one predicts."""

    flavors: dict[str, dict[str, Any]]
    files: dict[str, FileEntry]
    signature: Signature | None = None
    input_example: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    heron_version: str = ""
    format_version: int = FORMAT_VERSION

    @property
    def primary_flavor(self) -> str:
        return next(iter(self.flavors))

    def with_primary(self, name: str) -> Manifest:
        """This manifest with ``name`` as the flavor that loads and predicts."""
        if name not in self.flavors:
            raise InvalidArgument(
                f"this is a {', '.join(self.flavors)} model, not {name}; "
                "load it with heron.models.load() or the matching heron.<flavor>.load_model()"
            )
        flavors = {name: self.flavors[name]} | self.flavors
        return dataclasses.replace(self, flavors=flavors)

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.files.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "created_at": self.created_at,
            "heron_version": self.heron_version,
            "flavors": self.flavors,
            "signature": self.signature.to_dict() if self.signature else None,
            "input_example": self.input_example,
            "environment": self.environment,
            "metadata": self.metadata,
            "files": {
                path: {"sha256": entry.sha256, "size": entry.size}
                for path, entry in sorted(self.files.items())
            },
        }


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_directory(directory: Path) -> dict[str, FileEntry]:
    """Every regular file below ``directory`` except the manifest, by relative path."""
    entries = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).as_posix()
        if path.is_symlink():
            raise InvalidArgument(f"model directories may not hold symlinks: {relative!r}")
        if path.is_file() and relative != MANIFEST_FILE and "__pycache__" not in path.parts:
            entries[relative] = FileEntry(sha256_of(path), path.stat().st_size)
    return entries


def write_manifest(directory: Path, manifest: Manifest) -> None:
    text = yaml.safe_dump(manifest.to_dict(), sort_keys=False, allow_unicode=True)
    (directory / MANIFEST_FILE).write_text(text, encoding="utf-8")


def read_manifest(path: str | Path) -> Manifest:
    """The manifest of a Heron model directory (or of the manifest file itself).

    Cheap: reads one small YAML file and verifies nothing else, so a registry can use it
    to check that an artifact folder holds a model. ``load`` verifies the files.
    """
    path = Path(path)
    manifest_path = path / MANIFEST_FILE if path.is_dir() else path
    if not manifest_path.is_file():
        raise NotFound(f"{str(path)!r} is not a Heron model: it has no {MANIFEST_FILE}")
    try:
        raw = yaml.load(manifest_path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as error:
        raise InvalidArgument(f"{manifest_path} is not valid YAML: {error}") from None
    return parse_manifest(raw, str(manifest_path))


def parse_manifest(raw: Any, where: str) -> Manifest:
    if not isinstance(raw, Mapping) or "format_version" not in raw:
        raise InvalidArgument(f"{where} is not a Heron model manifest (no format_version)")
    version = raw["format_version"]
    if not isinstance(version, int) or version < 1:
        raise InvalidArgument(f"{where}: format_version must be a positive integer")
    if version > FORMAT_VERSION:
        raise InvalidArgument(
            f"{where} uses model format {version}, newer than this Heron reads "
            f"(up to {FORMAT_VERSION}); upgrade heron-ml to load it"
        )
    data = dict(raw)
    while data["format_version"] < FORMAT_VERSION:
        data = _MIGRATIONS[data["format_version"]](data)
    try:
        flavors = {str(k): dict(v or {}) for k, v in data["flavors"].items()}
        files = {
            str(path): FileEntry(str(entry["sha256"]), int(entry["size"]))
            for path, entry in (data.get("files") or {}).items()
        }
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise InvalidArgument(f"{where}: malformed flavors or files ({error!r})") from None
    if not flavors:
        raise InvalidArgument(f"{where} names no flavor")
    signature = data.get("signature")
    return Manifest(
        flavors=flavors,
        files=files,
        signature=Signature.from_dict(signature) if signature else None,
        input_example=data.get("input_example"),
        environment=dict(data.get("environment") or {}),
        metadata=dict(data.get("metadata") or {}),
        created_at=str(data.get("created_at") or ""),
        heron_version=str(data.get("heron_version") or ""),
        format_version=FORMAT_VERSION,
    )


def verify_files(directory: Path, manifest: Manifest) -> None:
    """Refuse the directory unless it holds exactly the files listed, unchanged."""
    found = hash_directory(directory)
    unlisted = sorted(set(found) - set(manifest.files))
    if unlisted:
        raise DataCorrupted(
            f"model at {directory} holds files its manifest does not list: {unlisted}; "
            "a model directory must not be changed after it is saved"
        )
    for relative, entry in manifest.files.items():
        actual = found.get(relative)
        if actual is None:
            raise DataCorrupted(f"model at {directory} is missing {relative!r}")
        if actual.sha256 != entry.sha256:
            raise DataCorrupted(
                f"{relative!r} in the model at {directory} does not match the SHA-256 in its "
                "manifest: the file was changed or damaged after the model was saved"
            )
