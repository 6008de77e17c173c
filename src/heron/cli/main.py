"""Entry point of the ``heron`` command: the root app, its global options and subcommands."""

from __future__ import annotations

from typing import Annotated

import typer

from heron.cli import db, endpoints, experiments, models, runs
from heron.cli.deploy import build_docker
from heron.cli.errors import HeronGroup
from heron.cli.serve import serve
from heron.cli.server import server
from heron.cli.state import State
from heron.cli.sync import sync
from heron.cli.ui import ui
from heron.client.config import TRACKING_URI_ENV

app = typer.Typer(
    cls=HeronGroup,
    name="heron",
    no_args_is_help=True,
    # Tracebacks are for bugs; expected failures are reported by HeronGroup.
    pretty_exceptions_show_locals=False,
    help=(
        "Heron: track machine-learning experiments and runs.\n\n"
        "Exit codes: 0 success, 1 other error, 2 invalid argument or usage, 3 not found, "
        "4 already exists, 5 conflict, 6 permission denied, 7 unauthenticated.\n\n"
        "With --json, commands print JSON on stdout only: times are epoch milliseconds, "
        'NaN and infinities are the strings "NaN", "Infinity" and "-Infinity", '
        "missing values are null."
    ),
)
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(models.app, name="models")
app.add_typer(db.app, name="db")
app.add_typer(endpoints.app, name="endpoints")
models.app.command("build-docker")(build_docker)
app.command("server")(server)
app.command("sync")(sync)
app.command("ui")(ui)
app.command("serve")(serve)


@app.callback()
def root(
    ctx: typer.Context,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            envvar=TRACKING_URI_ENV,
            help=(
                "Where runs are tracked: a folder, sqlite:///path/heron.db or "
                "postgresql://... Default: ./.heron/"
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = State(tracking_uri)


def main() -> None:
    app()
