"""`heron server`: serve the tracking REST API (and, later, the UI) with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from heron.artifacts import ArtifactsMode
from heron.client.config import DEFAULT_DIRECTORY, is_remote, tracking_uri
from heron.server.settings import (
    ARTIFACT_ROOT_ENV,
    ARTIFACTS_MODE_ENV,
    BACKEND_STORE_URI_ENV,
    ServerSettings,
)
from heron.store import SqlTrackingStore


def server(
    backend_store_uri: Annotated[
        str | None,
        typer.Option(
            help="Metadata store: a folder, sqlite:///path/heron.db or postgresql://... "
            "Default: the embedded ./.heron/ (or HERON_TRACKING_URI)."
        ),
    ] = None,
    artifacts_destination: Annotated[
        str | None,
        typer.Option(help="Root for new experiments' artifacts: a folder or s3://bucket/prefix."),
    ] = None,
    artifacts_mode: Annotated[
        ArtifactsMode,
        typer.Option(
            help="proxy: clients upload and download artifacts through this server and need "
            "no access to the store. direct: clients read and write the store themselves "
            "(with their own credentials, e.g. AWS_* variables) and the server records "
            "each file's sha256; the server still needs read access to check the records."
        ),
    ] = ArtifactsMode.PROXY,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve Heron's REST API so that many clients can track to one place."""
    import uvicorn

    if backend_store_uri is None and is_remote(tracking_uri()):
        # HERON_TRACKING_URI names a server (maybe this one): serve the embedded default.
        backend_store_uri = DEFAULT_DIRECTORY
    resolved = ServerSettings.for_location(
        backend_store_uri, artifacts_destination, artifacts_mode=artifacts_mode
    )
    # Create or check the schema once here: N workers starting on a fresh database would
    # otherwise all run the migrations at the same moment.
    SqlTrackingStore(resolved.backend_store_uri).close()
    # The server process (and each uvicorn worker) reads its settings from these: the
    # environment is the only channel uvicorn's factory mode leaves between processes.
    os.environ[BACKEND_STORE_URI_ENV] = resolved.backend_store_uri
    os.environ[ARTIFACT_ROOT_ENV] = resolved.default_artifact_root
    os.environ[ARTIFACTS_MODE_ENV] = resolved.artifacts_mode.value
    typer.echo(
        f"Heron server on http://{host}:{port} (store {resolved.backend_store_uri}, "
        f"artifacts {resolved.default_artifact_root}, {resolved.artifacts_mode.value} mode)",
        err=True,
    )
    uvicorn.run(
        "heron.server.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )
