"""Artifact stores: one small interface, implemented on fsspec."""

from heron.artifacts.base import ArtifactRepository, StoredArtifact, clean_artifact_path
from heron.artifacts.fsspec_repository import FsspecArtifactRepository, artifact_repository

__all__ = [
    "ArtifactRepository",
    "FsspecArtifactRepository",
    "StoredArtifact",
    "artifact_repository",
    "clean_artifact_path",
]
