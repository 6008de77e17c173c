"""How a tracking server is configured: one explicit object, read from the environment only
by ``from_environment`` (the edge, for ``uvicorn --factory`` with several workers)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from heron.artifacts import ArtifactsMode
from heron.client.config import resolve
from heron.errors import InvalidArgument

BACKEND_STORE_URI_ENV = "HERON_SERVER_BACKEND_STORE_URI"
ARTIFACT_ROOT_ENV = "HERON_SERVER_ARTIFACT_ROOT"
MAX_REQUEST_BYTES_ENV = "HERON_SERVER_MAX_REQUEST_BYTES"
ARTIFACTS_MODE_ENV = "HERON_SERVER_ARTIFACTS_MODE"

DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``create_app`` needs.

    ``backend_store_uri`` is a SQLAlchemy URI (``sqlite:///...`` or ``postgresql://...``);
    ``default_artifact_root`` is where new experiments keep artifacts (a path or fsspec URI).
    ``max_request_bytes`` caps JSON request bodies; artifact uploads are streamed to the
    artifact store and are not limited by it. ``artifacts_mode`` says whether clients send
    artifact bytes through the server (proxy) or to the store themselves (direct).
    """

    backend_store_uri: str
    default_artifact_root: str
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    artifacts_mode: ArtifactsMode = ArtifactsMode.PROXY

    def __post_init__(self) -> None:
        # A plain "direct" from a caller becomes the enum member, so `is` comparisons hold.
        object.__setattr__(self, "artifacts_mode", artifacts_mode_from(self.artifacts_mode))
        if self.max_request_bytes < 1:
            raise InvalidArgument(
                f"max_request_bytes must be a positive number of bytes, "
                f"got {self.max_request_bytes}"
            )

    @classmethod
    def for_location(
        cls,
        tracking_uri: str | None,
        artifact_root: str | None = None,
        *,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        artifacts_mode: ArtifactsMode | str = ArtifactsMode.PROXY,
    ) -> ServerSettings:
        """Settings for a tracking location as the CLI and clients name it (a folder,
        ``sqlite:///...``, ``postgresql://...``), mapped exactly as the embedded client maps
        it, so a server and a local client on the same location see the same data."""
        mode = artifacts_mode_from(artifacts_mode)
        config = resolve(tracking_uri, artifact_root)
        root = config.artifact_root
        if mode is ArtifactsMode.DIRECT and "://" not in root:
            # Clients open run artifact URIs from their own working directory.
            root = str(Path(root).expanduser().resolve())
        return cls(config.store_uri, root, max_request_bytes, mode)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        """Read the variables ``heron server`` sets for its uvicorn workers."""
        env = os.environ if environ is None else environ
        limit = env.get(MAX_REQUEST_BYTES_ENV) or str(DEFAULT_MAX_REQUEST_BYTES)
        try:
            max_request_bytes = int(limit)
        except ValueError:
            raise InvalidArgument(
                f"{MAX_REQUEST_BYTES_ENV}={limit!r} is not a whole number of bytes"
            ) from None
        return cls.for_location(
            env.get(BACKEND_STORE_URI_ENV) or None,
            env.get(ARTIFACT_ROOT_ENV) or None,
            max_request_bytes=max_request_bytes,
            artifacts_mode=env.get(ARTIFACTS_MODE_ENV) or ArtifactsMode.PROXY,
        )


def artifacts_mode_from(value: ArtifactsMode | str) -> ArtifactsMode:
    try:
        return ArtifactsMode(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in ArtifactsMode)
        raise InvalidArgument(f"unknown artifacts mode {value!r}: use one of {choices}") from None
