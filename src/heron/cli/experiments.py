"""``heron experiments``: list, create, rename, delete and restore experiments."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from heron.cli import output
from heron.cli.state import all_experiments, client
from heron.entities import LifecycleStage
from heron.store import ViewType

app = typer.Typer(no_args_is_help=True, help="Manage experiments.")

JsonOption = Annotated[bool, typer.Option("--json", help=output.JSON_HELP)]
NameOrId = Annotated[
    str,
    typer.Argument(
        metavar="NAME_OR_ID", help="Experiment name, or id when no experiment has that name."
    ),
]


def _parse_tags(pairs: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--tag")
        tags[key] = value
    return tags


@app.command("list")
def list_experiments(
    ctx: typer.Context,
    view: Annotated[
        ViewType, typer.Option("--view", help="Which lifecycle stages to list.")
    ] = ViewType.ACTIVE_ONLY,
    as_json: JsonOption = False,
) -> None:
    """List experiments."""
    found = all_experiments(client(ctx), view)
    if as_json:
        output.emit_json({"experiments": [output.experiment_dict(e) for e in found]})
        return
    if not found:
        output.console().print("No experiments.")
        return
    table = Table()
    table.add_column("id", justify="right")
    table.add_column("name", style="bold")
    table.add_column("lifecycle")
    table.add_column("created")
    table.add_column("artifact location", overflow="fold")
    for experiment in found:
        deleted = experiment.lifecycle_stage is LifecycleStage.DELETED
        table.add_row(
            experiment.id,
            Text(experiment.name),
            Text(experiment.lifecycle_stage.value, style="red" if deleted else "green"),
            output.fmt_time(experiment.creation_time),
            Text(experiment.artifact_location),
        )
    output.console().print(table)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique experiment name.")],
    artifact_location: Annotated[
        str | None,
        typer.Option(help="Where its runs store artifacts. Default: under the artifact root."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="KEY=VALUE", help="Experiment tag; repeatable."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an experiment."""
    experiment = client(ctx).create_experiment(
        name, artifact_location=artifact_location, tags=_parse_tags(tag or [])
    )
    if as_json:
        output.emit_json(output.experiment_dict(experiment))
    else:
        typer.echo(f"Created experiment {experiment.name!r} with id {experiment.id}")


@app.command()
def rename(
    ctx: typer.Context,
    name_or_id: NameOrId,
    new_name: Annotated[str, typer.Argument(help="The new, unique name.")],
) -> None:
    """Rename an experiment."""
    heron = client(ctx)
    experiment = heron.resolve_experiment(name_or_id)
    heron.rename_experiment(experiment.id, new_name)
    typer.echo(f"Renamed experiment {experiment.id} from {experiment.name!r} to {new_name!r}")


@app.command()
def delete(ctx: typer.Context, name_or_id: NameOrId) -> None:
    """Delete an experiment (soft: `heron experiments restore` brings it back)."""
    heron = client(ctx)
    experiment = heron.resolve_experiment(name_or_id)
    if experiment.lifecycle_stage is LifecycleStage.DELETED:
        typer.echo(f"Experiment {experiment.name!r} (id {experiment.id}) is already deleted")
        return
    heron.delete_experiment(experiment.id)
    typer.echo(f"Deleted experiment {experiment.name!r} (id {experiment.id})")


@app.command()
def restore(ctx: typer.Context, name_or_id: NameOrId) -> None:
    """Restore a deleted experiment."""
    heron = client(ctx)
    # Names are looked up in every lifecycle stage, so a deleted one is found.
    experiment = heron.resolve_experiment(name_or_id)
    if experiment.lifecycle_stage is LifecycleStage.ACTIVE:
        typer.echo(f"Experiment {experiment.name!r} (id {experiment.id}) is already active")
        return
    heron.restore_experiment(experiment.id)
    typer.echo(f"Restored experiment {experiment.name!r} (id {experiment.id})")
