"""Rendering helpers: JSON for machines, rich tables and compact values for people.

JSON conventions (documented in `heron --help`): times are integer milliseconds since
the epoch, as stored; NaN and infinities are the strings "NaN", "Infinity" and
"-Infinity" (JSON has no such numbers, and null would lose which one it was); a
missing value is null.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from heron.entities import Experiment, FileInfo, Run, RunStatus

JSON_HELP = (
    "Print JSON on stdout instead of a table. Times are epoch milliseconds; NaN and "
    'infinities are the strings "NaN", "Infinity", "-Infinity"; missing values are null.'
)

STATUS_STYLES: dict[RunStatus, str] = {
    RunStatus.RUNNING: "bold blue",
    RunStatus.SCHEDULED: "cyan",
    RunStatus.FINISHED: "green",
    RunStatus.FAILED: "bold red",
    RunStatus.KILLED: "magenta",
}

MISSING = "-"
PIPE_WIDTH = 200


def console() -> Console:
    # Built per call, not at import: CliRunner swaps sys.stdout between invocations.
    # highlight=False so rich does not recolour numbers and ids on its own.
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped into a file or grep there is no screen to fit: don't truncate values.
        console.width = PIPE_WIDTH
    return console


# -- JSON --------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` with enums, dataclasses and non-finite floats made JSON-safe."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def emit_json(data: Any) -> None:
    typer.echo(orjson.dumps(jsonable(data), option=orjson.OPT_INDENT_2).decode())


def experiment_dict(experiment: Experiment) -> dict[str, Any]:
    return dict(jsonable(experiment))


def run_dict(run: Run) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(run)
    data["duration_ms"] = run.duration_ms
    return data


def file_dict(info: FileInfo) -> dict[str, Any]:
    return dict(jsonable(info))


# -- compact values ----------------------------------------------------------------


def fmt_time(ms: int | None, *, seconds: bool = True) -> str:
    """Local time, to the second (or minute, where table width is tight)."""
    if ms is None:
        return MISSING
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime(pattern)


def fmt_duration(ms: int | None) -> str:
    if ms is None:
        return MISSING
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def fmt_number(value: float | None, digits: int = 6) -> str:
    if value is None:
        return MISSING
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"


def fmt_size(size: int | None) -> str:
    if size is None:
        return MISSING
    if size < 1024:
        return f"{size} B"
    amount = size / 1024
    for unit in ("KiB", "MiB"):
        if amount < 1024:
            return f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


def status_text(status: RunStatus) -> Text:
    return Text(status.value, style=STATUS_STYLES.get(status, ""))


def key_value_table(title: str, rows: Mapping[str, str], value_header: str = "value") -> Table:
    # Text() rather than markup strings: keys and values are user data and may hold "[".
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column("key", style="bold")
    table.add_column(value_header, overflow="fold")
    for key in sorted(rows):
        table.add_row(Text(key), Text(rows[key]))
    return table
