"""Where the tracking data lives: resolved once, at the edge, from arguments or environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from heron.errors import InvalidArgument

TRACKING_URI_ENV = "HERON_TRACKING_URI"
ARTIFACT_ROOT_ENV = "HERON_ARTIFACT_ROOT"
DEFAULT_DIRECTORY = ".heron"


@dataclass(frozen=True)
class TrackingConfig:
    """A metadata store URI and the root under which new experiments keep artifacts."""

    store_uri: str
    artifact_root: str


def tracking_uri(explicit: str | None = None) -> str:
    """The tracking URI in force: the argument, then HERON_TRACKING_URI, then ./.heron."""
    return explicit or os.environ.get(TRACKING_URI_ENV) or DEFAULT_DIRECTORY


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def resolve(explicit: str | None = None, artifact_root: str | None = None) -> TrackingConfig:
    """Resolve the tracking location.

    Order: the argument, then ``HERON_TRACKING_URI``, then ``./.heron/`` (SQLite file
    ``heron.db`` plus an ``artifacts`` folder). A plain path names such a folder.
    ``sqlite:///dir/x.db`` keeps artifacts in ``dir/artifacts``; PostgreSQL keeps them
    under ``HERON_ARTIFACT_ROOT`` or ``./.heron/artifacts``.
    """
    uri = tracking_uri(explicit)
    artifacts = artifact_root or os.environ.get(ARTIFACT_ROOT_ENV)
    if is_remote(uri):
        raise InvalidArgument(
            f"{uri} is a tracking server, not a database: open it with heron.Client({uri!r})"
        )
    if uri.startswith("sqlite:"):
        database = uri.split("sqlite:///", 1)[-1] if uri.startswith("sqlite:///") else ""
        if not database:
            raise InvalidArgument(
                f"{uri!r} names no database file: use sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db"
            )
        path = Path(database).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return TrackingConfig(f"sqlite:///{path}", artifacts or str(path.parent / "artifacts"))
    if uri.startswith(("postgresql:", "postgresql+psycopg:", "postgres:")):
        if uri.startswith("postgres:"):
            uri = "postgresql:" + uri[len("postgres:") :]
        default_artifacts = Path(DEFAULT_DIRECTORY).resolve() / "artifacts"
        return TrackingConfig(uri, artifacts or str(default_artifacts))
    if "://" in uri:
        raise InvalidArgument(
            f"unsupported tracking URI {uri!r}: use a folder path, sqlite:///path/heron.db or "
            "postgresql://user@host:port/database"
        )
    folder = Path(uri).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return TrackingConfig(
        f"sqlite:///{folder / 'heron.db'}", artifacts or str(folder / "artifacts")
    )
