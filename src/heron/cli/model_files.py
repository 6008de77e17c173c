"""``heron models inspect|env|convert``: commands on model directories and URIs."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the model-file commands to the ``heron models`` group."""
