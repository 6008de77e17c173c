"""The table of `heron runs list`: fixed run columns, then as many metrics and params as fit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.table import Table
from rich.text import Text

from heron.cli import output
from heron.entities import Experiment, LifecycleStage, Run

# Beyond this a table stops being readable; --json and `runs show` have the rest.
MAX_KEY_COLUMNS = 8
# Padding and separator around each column in the SIMPLE_HEAD box.
COLUMN_OVERHEAD = 3


@dataclass
class Column:
    header: Text
    cells: list[Text]
    justify: Literal["left", "right"]
    width: int  # never shrunk below this, so values are folded, not hidden


def _column(
    header: Text, cells: list[Text], cap: int, justify: Literal["left", "right"] = "left"
) -> Column:
    widest = max([header.cell_len, *(cell.cell_len for cell in cells)])
    return Column(header, cells, justify, min(widest, cap))


def _keys_by_frequency(mappings: Iterable[Mapping[str, object]]) -> list[str]:
    counts = Counter(key for mapping in mappings for key in mapping)
    return sorted(counts, key=lambda k: (-counts[k], k))


def runs_table(runs: list[Run], experiments: list[Experiment], *, width: int, more: bool) -> Table:
    names = {e.id: e.name for e in experiments}
    fixed = [
        _column(Text("run id"), [Text(r.id[:8], style=_id_style(r)) for r in runs], 8),
        _column(Text("name"), [Text(r.name, style="bold") for r in runs], 16),
    ]
    if len(experiments) > 1:
        cells = [Text(names.get(r.experiment_id, r.experiment_id)) for r in runs]
        fixed.append(_column(Text("experiment"), cells, 12))
    fixed += [
        _column(Text("status"), [output.status_text(r.status) for r in runs], 9),
        _column(
            Text("start"), [Text(output.fmt_time(r.start_time, seconds=False)) for r in runs], 16
        ),
        _column(
            Text("duration"), [Text(output.fmt_duration(r.duration_ms)) for r in runs], 8, "right"
        ),
    ]
    metric_keys = _keys_by_frequency(r.metrics for r in runs)
    param_keys = _keys_by_frequency(r.params for r in runs)
    clash = set(metric_keys) & set(param_keys)
    candidates: list[tuple[str, str, Column]] = []
    for key in metric_keys[:MAX_KEY_COLUMNS]:
        header = Text(f"metric:{key}" if key in clash else key, style="cyan")
        cells = [Text(output.fmt_number(r.metrics.get(key), digits=4)) for r in runs]
        candidates.append(("metric", key, _column(header, cells, 10, "right")))
    for key in param_keys[:MAX_KEY_COLUMNS]:
        header = Text(f"param:{key}" if key in clash else key, style="magenta")
        cells = [Text(r.params.get(key, output.MISSING)) for r in runs]
        candidates.append(("param", key, _column(header, cells, 12)))
    # Metrics first, most widespread first, while they fit the screen; rich would
    # otherwise crop whole columns off the right edge without saying so.
    used = sum(c.width + COLUMN_OVERHEAD for c in fixed)
    chosen: list[tuple[str, str, Column]] = []
    for kind, key, column in candidates:
        if used + column.width + COLUMN_OVERHEAD <= width:
            chosen.append((kind, key, column))
            used += column.width + COLUMN_OVERHEAD
    shown_metrics = sum(1 for kind, _, _ in chosen if kind == "metric")
    hidden = (len(metric_keys) - shown_metrics, len(param_keys) - (len(chosen) - shown_metrics))
    chosen.sort(key=lambda item: (item[0] != "metric", item[1]))
    notes = []
    if more:
        notes.append(f"first {len(runs)} runs: raise --max-results for more")
    left_out = [f"{n} {kind}" for n, kind in zip(hidden, ("metrics", "params"), strict=True) if n]
    if left_out:
        notes.append(f"{' and '.join(left_out)} not shown: use --json")
    table = Table(box=box.SIMPLE_HEAD, caption="; ".join(notes) or None)
    columns = fixed + [column for _, _, column in chosen]
    for column in columns:
        table.add_column(
            column.header, justify=column.justify, min_width=column.width, overflow="fold"
        )
    for row in zip(*(column.cells for column in columns), strict=True):
        table.add_row(*row)
    return table


def _id_style(run: Run) -> str:
    return "dim strike" if run.lifecycle_stage is LifecycleStage.DELETED else ""
