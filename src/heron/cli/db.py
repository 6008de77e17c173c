"""``heron db``: schema migrations of the metadata store.

These commands open the database directly rather than through Client, because opening
a Client creates or checks the schema, which is exactly what is being managed here.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from heron.cli.state import state_of
from heron.client.config import resolve
from heron.store import migrate
from heron.store.engine import create_engines

app = typer.Typer(no_args_is_help=True, help="Manage the metadata database schema.")

TrackingUriOption = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="Overrides the global --tracking-uri for this command.",
        show_default=False,
    ),
]


def _store_uri(ctx: typer.Context, tracking_uri: str | None) -> str:
    return resolve(tracking_uri or state_of(ctx).tracking_uri).store_uri


def _shown(uri: str) -> str:
    return make_url(uri).render_as_string(hide_password=True)


@app.command()
def upgrade(ctx: typer.Context, tracking_uri: TrackingUriOption = None) -> None:
    """Upgrade the schema to the latest revision (back the database up first)."""
    uri = _store_uri(ctx, tracking_uri)
    engines = create_engines(uri)
    try:
        before = migrate.current_revision(engines.writer)
        migrate.upgrade(engines.writer)
        after = migrate.current_revision(engines.writer)
    finally:
        engines.dispose()
    typer.echo(f"Database: {_shown(uri)}")
    if before == after:
        typer.echo(f"Already at the latest revision: {after}")
    else:
        typer.echo(f"Upgraded: {before or '(empty database)'} -> {after}")


@app.command()
def current(ctx: typer.Context, tracking_uri: TrackingUriOption = None) -> None:
    """Show the schema revision of the database and the one this Heron needs."""
    uri = _store_uri(ctx, tracking_uri)
    engines = create_engines(uri)
    try:
        revision = migrate.current_revision(engines.writer)
    finally:
        engines.dispose()
    head = migrate.head_revision()
    typer.echo(f"Database: {_shown(uri)}")
    typer.echo(f"Current revision: {revision or '(none: empty database)'}")
    if revision == head:
        typer.echo(f"Up to date (head {head})")
    else:
        typer.echo(f"Latest revision: {head}; run `heron db upgrade`")
