"""Artifact stores: one small interface, implemented on fsspec."""

from heron.artifacts.base import (
    ArtifactRepository,
    ArtifactsMode,
    StoredArtifact,
    clean_artifact_path,
    require_sha256,
    verify_download,
)
from heron.artifacts.fsspec_repository import FsspecArtifactRepository, artifact_repository

__all__ = [
    "ArtifactRepository",
    "ArtifactsMode",
    "FsspecArtifactRepository",
    "StoredArtifact",
    "artifact_repository",
    "clean_artifact_path",
    "require_sha256",
    "verify_download",
]
