"""``heron runs compare``: params and metrics of several runs side by side."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from heron.cli import output
from heron.cli.state import client, resolve_run
from heron.entities import Run

V = TypeVar("V", str, float)

# Which way a metric improves is not recorded, so guess from its name; the guess can be
# overridden per key with --minimize / --maximize.
LOWER_IS_BETTER = re.compile(
    r"loss|err|mse|mae|mape|rmse|perplexity|latency|duration|time|cost", re.IGNORECASE
)


def _comparable(value: object) -> object:
    # NaN != NaN, yet two runs that both logged NaN do not differ.
    return "nan" if isinstance(value, float) and math.isnan(value) else value


def _differs(values: Sequence[object]) -> bool:
    return len({_comparable(v) for v in values}) > 1


def _union(
    runs: Sequence[Run], pick: Callable[[Run], Mapping[str, V]]
) -> dict[str, list[V | None]]:
    keys = sorted({key for run in runs for key in pick(run)})
    return {key: [pick(run).get(key) for run in runs] for key in keys}


def best_indexes(
    key: str, values: Sequence[float | None], minimize: set[str], maximize: set[str]
) -> set[int]:
    """Positions holding the best finite value of a metric row."""
    finite = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not finite:
        return set()
    lower = key in minimize or (key not in maximize and LOWER_IS_BETTER.search(key) is not None)
    target = (min if lower else max)(v for _, v in finite)
    return {i for i, v in finite if v == target}


def compare(
    ctx: typer.Context,
    run_ids: Annotated[
        list[str],
        typer.Argument(metavar="RUN_ID", help="Two or more run ids (or prefixes)."),
    ],
    minimize: Annotated[
        list[str] | None,
        typer.Option("--minimize", metavar="METRIC", help="Lower is better for this metric."),
    ] = None,
    maximize: Annotated[
        list[str] | None,
        typer.Option("--maximize", metavar="METRIC", help="Higher is better for this metric."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=output.JSON_HELP)] = False,
) -> None:
    """Compare params and metrics of runs: differing rows in yellow, best metric in green.

    Best assumes lower is better for loss-, error- and time-like names, else higher.
    """
    heron = client(ctx)
    unique: dict[str, Run] = {}
    for run_id in run_ids:
        run = resolve_run(heron, run_id)
        unique.setdefault(run.id, run)
    runs = list(unique.values())
    if len(runs) < 2:
        raise typer.BadParameter("give at least two different runs", param_hint="RUN_ID")
    params = _union(runs, lambda run: run.params)
    metrics = _union(runs, lambda run: run.metrics)
    low, high = set(minimize or []), set(maximize or [])
    differing_params = [key for key, values in params.items() if _differs(values)]
    differing_metrics = [key for key, values in metrics.items() if _differs(values)]
    # Marking a best value only makes sense where the runs disagree.
    best = {key: best_indexes(key, metrics[key], low, high) for key in differing_metrics}
    ids = [run.id for run in runs]
    if as_json:
        output.emit_json(
            {
                "runs": ids,
                "params": {k: dict(zip(ids, vs, strict=True)) for k, vs in params.items()},
                "metrics": {k: dict(zip(ids, vs, strict=True)) for k, vs in metrics.items()},
                "differences": {"params": differing_params, "metrics": differing_metrics},
                "best": {k: [ids[i] for i in sorted(best[k])] for k in differing_metrics},
            }
        )
        return
    console = output.console()
    console.print(_table("Params", runs, params, set(differing_params), {}))
    console.print()
    metric_cells = {
        k: [None if v is None else output.fmt_number(v) for v in vs] for k, vs in metrics.items()
    }
    console.print(_table("Metrics", runs, metric_cells, set(differing_metrics), best))
    console.print(Text("! differs across runs   * best value", style="dim"))


def _table(
    title: str,
    runs: Sequence[Run],
    rows: Mapping[str, Sequence[str | None]],
    differing: set[str],
    best: Mapping[str, set[int]],
) -> Table | str:
    if not rows:
        return f"{title}: none"
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column("key")
    for run in runs:
        table.add_column(Text(f"{run.name}\n{run.id[:8]}"), overflow="fold")
    for key, values in rows.items():
        differs = key in differing
        cells = [
            Text(f"! {key}" if differs else f"  {key}", style="bold yellow" if differs else "")
        ]
        for index, value in enumerate(values):
            text = output.MISSING if value is None else value
            if index in best.get(key, set()):
                cells.append(Text(f"{text} *", style="bold green"))
            else:
                cells.append(Text(text, style="yellow" if differs else ""))
        table.add_row(*cells)
    return table
