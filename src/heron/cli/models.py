"""``heron models ...``: the model registry and model files."""

from __future__ import annotations

import typer

from heron.cli import model_files, registry

app = typer.Typer(
    no_args_is_help=True, help="Registered models, versions, aliases and model files."
)
registry.register_commands(app)
model_files.register(app)
