"""`heron sync`: send the metric batches a process left in its spool when it ended."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from heron.client import Client
from heron.client.spool import abandoned_spools, default_spool_dir, read_spool
from heron.errors import Unavailable


def sync(
    spool_dir: Annotated[
        Path | None,
        typer.Option(help="Where spool files are (default: HERON_SPOOL_DIR or ~/.heron/spool)."),
    ] = None,
) -> None:
    """Replay spooled metrics to their tracking server; each batch is stored exactly once."""
    directory = spool_dir or default_spool_dir()
    files = abandoned_spools(directory)
    if not files:
        typer.echo(f"Nothing to send: no spool files left by ended processes in {directory}")
        return
    clients: dict[str, Client] = {}
    sent_batches = sent_points = 0
    try:
        for path in files:
            for batch in read_spool(path):
                client = clients.get(batch.tracking_uri)
                if client is None:
                    client = clients[batch.tracking_uri] = Client(batch.tracking_uri)
                # The batch's own request id: already-stored batches are skipped by the server.
                client.log_batch(batch.run_id, batch.metrics, request_id=batch.request_id)
                sent_batches += 1
                sent_points += len(batch.metrics)
            path.unlink()
    except Unavailable as exc:
        typer.echo(
            f"Sent {sent_batches} batches, then the server became unavailable ({exc}); "
            "run `heron sync` again later: nothing is sent twice.",
            err=True,
        )
        raise typer.Exit(1) from None
    finally:
        for client in clients.values():
            client.close()
    typer.echo(
        f"Sent {sent_points} metric points in {sent_batches} batches from {len(files)} files"
    )
