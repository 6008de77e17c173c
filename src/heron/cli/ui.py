"""`heron ui`: the web UI over the store this command line tracks to (``--tracking-uri``,
``HERON_TRACKING_URI`` or the embedded ./.heron/), served like `heron server`."""

from __future__ import annotations

from typing import Annotated

import typer

from heron.cli.server import server
from heron.cli.state import state_of
from heron.client.config import is_remote


def ui(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
) -> None:
    """Open Heron's web UI on the local store: experiments, runs, charts and models."""
    location = state_of(ctx).tracking_uri
    if location is not None and is_remote(location):
        raise typer.BadParameter(
            f"{location} is a server: open its UI in a browser there instead",
            param_hint="--tracking-uri",
        )
    typer.echo(f"Heron UI: http://{host}:{port}/  (Ctrl-C to stop)", err=True)
    server(backend_store_uri=location, host=host, port=port)
