"""`heron models build-docker URI`: a Docker build context serving one model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from heron.cli.state import client
from heron.models.model import local_copy
from heron.serving.deploy import write_docker_context


def build_docker(
    ctx: typer.Context,
    model_uri: Annotated[
        str, typer.Argument(help="A folder, runs:/<run_id>/<path> or models:/name@alias.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="New folder for the build context.")
    ] = Path("heron-docker"),
    workers: Annotated[int, typer.Option(min=1, help="Server worker processes.")] = 2,
    python: Annotated[str, typer.Option(help="Python version of the base image.")] = "3.11",
) -> None:
    """Write a Dockerfile and build context serving the model with `heron serve`."""
    heron = client(ctx) if model_uri.startswith(("models:/", "runs:/")) else None
    with local_copy(model_uri, heron) as folder:
        dockerfile = write_docker_context(folder, output, workers=workers, python=python)
    typer.echo(f"wrote {dockerfile}; build it with: docker build -t IMAGE {output}")
