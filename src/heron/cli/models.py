"""``heron models ...``: the model registry and model files."""

from __future__ import annotations

import typer

from heron.cli import model_files

app = typer.Typer(
    no_args_is_help=True, help="Registered models, versions, aliases and model files."
)
model_files.register(app)
