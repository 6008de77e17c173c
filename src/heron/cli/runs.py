"""``heron runs``: list, show, compare, delete and restore runs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from heron.cli import output
from heron.cli.compare import compare
from heron.cli.run_table import runs_table
from heron.cli.state import all_experiments, client, resolve_run
from heron.client import Client
from heron.entities import Experiment, LifecycleStage, Run
from heron.errors import HeronError
from heron.store import ViewType

app = typer.Typer(no_args_is_help=True, help="Inspect and manage runs.")
app.command("compare")(compare)

JsonOption = Annotated[bool, typer.Option("--json", help=output.JSON_HELP)]
RunIds = Annotated[
    list[str], typer.Argument(metavar="RUN_ID", help="Run ids, or unique prefixes of them.")
]


def _experiments(heron: Client, names_or_ids: list[str]) -> list[Experiment]:
    if not names_or_ids:
        return all_experiments(heron)
    unique: dict[str, Experiment] = {}
    for name_or_id in names_or_ids:
        experiment = heron.resolve_experiment(name_or_id)
        unique.setdefault(experiment.id, experiment)
    return list(unique.values())


@app.command("list")
def list_runs(
    ctx: typer.Context,
    experiment: Annotated[
        list[str] | None,
        typer.Option(
            "--experiment",
            "-e",
            metavar="NAME_OR_ID",
            help="Experiment to search; repeatable. Default: every active experiment.",
        ),
    ] = None,
    filter_string: Annotated[
        str | None,
        typer.Option(
            "--filter", help="Search filter, e.g. \"metrics.auc > 0.9 and params.lr = '0.1'\"."
        ),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", metavar="CLAUSE", help="e.g. 'metrics.auc DESC'; repeatable."),
    ] = None,
    max_results: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
    view: Annotated[
        ViewType, typer.Option("--view", help="Which lifecycle stages to list.")
    ] = ViewType.ACTIVE_ONLY,
    as_json: JsonOption = False,
) -> None:
    """List runs, newest first unless --order-by says otherwise."""
    heron = client(ctx)
    experiments = _experiments(heron, experiment or [])
    found: list[Run] = []
    token: str | None = None
    if experiments:
        page = heron.search_runs(
            [e.id for e in experiments],
            filter_string=filter_string,
            order_by=order_by or None,
            view=view,
            max_results=max_results,
        )
        found, token = page.items, page.next_page_token
    if as_json:
        output.emit_json({"runs": [output.run_dict(r) for r in found], "next_page_token": token})
        return
    if not found:
        output.console().print("No runs.")
        return
    console = output.console()
    console.print(runs_table(found, experiments, width=console.width, more=token is not None))


@app.command()
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id, or a unique prefix of one.")],
    as_json: JsonOption = False,
) -> None:
    """Show everything about one run."""
    heron = client(ctx)
    run = resolve_run(heron, run_id)
    experiment = heron.get_experiment(run.experiment_id)
    artifacts: list[dict[str, Any]] | None
    artifacts_error = ""
    try:
        artifacts = [output.file_dict(f) for f in heron.list_artifacts(run.id)]
    except (HeronError, OSError) as error:
        # Metadata is still worth showing when the artifact store is unreachable.
        artifacts, artifacts_error = None, str(error)
    if as_json:
        data = output.run_dict(run)
        data["experiment_name"] = experiment.name
        data["artifacts"] = artifacts
        output.emit_json(data)
        return
    console = output.console()
    overview = Table.grid(padding=(0, 2))
    overview.add_column(style="bold")
    overview.add_column(overflow="fold")
    for label, value in (
        ("run id", Text(run.id)),
        ("name", Text(run.name)),
        ("experiment", Text(f"{experiment.name} (id {experiment.id})")),
        ("status", output.status_text(run.status)),
        ("lifecycle", Text(run.lifecycle_stage.value)),
        ("user", Text(run.user or output.MISSING)),
        ("start", Text(output.fmt_time(run.start_time))),
        ("end", Text(output.fmt_time(run.end_time))),
        ("duration", Text(output.fmt_duration(run.duration_ms))),
        ("source", Text(run.source or output.MISSING)),
        ("git commit", Text(run.git_commit or output.MISSING)),
        ("parent run", Text(run.parent_run_id or output.MISSING)),
        ("artifact uri", Text(run.artifact_uri)),
    ):
        overview.add_row(label, value)
    console.print(overview)
    metrics = {k: output.fmt_number(v) for k, v in run.metrics.items()}
    for title, rows in (("Params", run.params), ("Metrics (latest)", metrics), ("Tags", run.tags)):
        console.print()
        console.print(output.key_value_table(title, rows) if rows else f"{title}: none")
    console.print()
    console.print(_inputs_table(run) if run.inputs else "Dataset inputs: none")
    console.print()
    if artifacts is None:
        console.print(Text(f"Artifacts: unavailable ({artifacts_error})", style="yellow"))
    elif artifacts:
        console.print(_artifacts_table(artifacts))
    else:
        console.print("Artifacts: none")


def _inputs_table(run: Run) -> Table:
    table = Table(title="Dataset inputs", title_justify="left", title_style="bold")
    for column in ("name", "digest", "context", "rows"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for run_input in run.inputs:
        rows = run_input.dataset.profile.get("num_rows")
        table.add_row(
            Text(run_input.dataset.name),
            run_input.dataset.digest,
            Text(run_input.context or output.MISSING),
            output.MISSING if rows is None else str(rows),
        )
    return table


def _artifacts_table(artifacts: list[dict[str, Any]]) -> Table:
    table = Table(title="Artifacts", title_justify="left", title_style="bold")
    table.add_column("path")
    table.add_column("size", justify="right")
    for info in artifacts:
        path = info["path"] + ("/" if info["is_dir"] else "")
        table.add_row(Text(path), output.fmt_size(info["size"]))
    return table


@app.command()
def delete(ctx: typer.Context, run_ids: RunIds) -> None:
    """Delete runs (soft: `heron runs restore` brings them back)."""
    _set_lifecycle(ctx, run_ids, LifecycleStage.DELETED)


@app.command()
def restore(ctx: typer.Context, run_ids: RunIds) -> None:
    """Restore deleted runs."""
    _set_lifecycle(ctx, run_ids, LifecycleStage.ACTIVE)


def _set_lifecycle(ctx: typer.Context, run_ids: list[str], stage: LifecycleStage) -> None:
    heron = client(ctx)
    # Resolve every id before changing any, so a typo does not leave a half-done batch.
    resolved = (resolve_run(heron, run_id) for run_id in run_ids)
    runs = list({run.id: run for run in resolved}.values())
    verb = "Deleted" if stage is LifecycleStage.DELETED else "Restored"
    for run in runs:
        if run.lifecycle_stage is stage:
            typer.echo(f"Run {run.id} ({run.name}) is already {stage.value}")
            continue
        if stage is LifecycleStage.DELETED:
            heron.delete_run(run.id)
        else:
            heron.restore_run(run.id)
        typer.echo(f"{verb} run {run.id} ({run.name})")
