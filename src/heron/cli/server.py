"""`heron server`: serve the tracking REST API (and, later, the UI) with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from heron.client.config import DEFAULT_DIRECTORY, is_remote, resolve, tracking_uri
from heron.store import SqlTrackingStore

# The server process (and each uvicorn worker) reads its settings from these: the
# environment is the only channel uvicorn's factory mode leaves between processes.
BACKEND_STORE_ENV = "HERON_SERVER_BACKEND_STORE_URI"
ARTIFACT_ROOT_ENV = "HERON_SERVER_ARTIFACT_ROOT"


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
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve Heron's REST API so that many clients can track to one place."""
    import uvicorn

    if backend_store_uri is None and is_remote(tracking_uri()):
        # HERON_TRACKING_URI names a server (maybe this one): serve the embedded default.
        backend_store_uri = DEFAULT_DIRECTORY
    resolved = resolve(backend_store_uri, artifacts_destination)
    # Create or check the schema once here: N workers starting on a fresh database would
    # otherwise all run the migrations at the same moment.
    SqlTrackingStore(resolved.store_uri).close()
    os.environ[BACKEND_STORE_ENV] = resolved.store_uri
    os.environ[ARTIFACT_ROOT_ENV] = resolved.artifact_root
    typer.echo(f"Heron server on http://{host}:{port} (store {resolved.store_uri})", err=True)
    uvicorn.run(
        "heron.server.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )
