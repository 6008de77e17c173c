"""How a tracking server is configured: one explicit object, read from the environment only
by ``from_environment`` (the edge, for ``uvicorn --factory`` with several workers)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from heron.client.config import resolve
from heron.errors import InvalidArgument

BACKEND_STORE_URI_ENV = "HERON_SERVER_BACKEND_STORE_URI"
ARTIFACT_ROOT_ENV = "HERON_SERVER_ARTIFACT_ROOT"
MAX_REQUEST_BYTES_ENV = "HERON_SERVER_MAX_REQUEST_BYTES"

DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``create_app`` needs.

    ``backend_store_uri`` is a SQLAlchemy URI (``sqlite:///...`` or ``postgresql://...``);
    ``default_artifact_root`` is where new experiments keep artifacts (a path or fsspec URI).
    ``max_request_bytes`` caps JSON request bodies; artifact uploads are streamed to the
    artifact store and are not limited by it.
    """

    backend_store_uri: str
    default_artifact_root: str
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES

    def __post_init__(self) -> None:
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
    ) -> ServerSettings:
        """Settings for a tracking location as the CLI and clients name it (a folder,
        ``sqlite:///...``, ``postgresql://...``), mapped exactly as the embedded client maps
        it, so a server and a local client on the same location see the same data."""
        config = resolve(tracking_uri, artifact_root)
        return cls(config.store_uri, config.artifact_root, max_request_bytes)

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
        )
