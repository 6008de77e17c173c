"""Artifact listings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the run's artifact root, "/"-separated
    is_dir: bool
    size: int | None = None  # bytes; None for directories
    sha256: str | None = None  # hex digest recorded when the file was stored, if known
