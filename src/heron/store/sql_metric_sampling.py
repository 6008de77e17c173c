"""Reading a chosen few points of a long metric history (charts' downsampling).

On the cursor's path, two reads: the values and point ids in step order, fetched in
chunks into numpy so that a series of millions of points never sits in memory as Python
objects, then the chosen points' full rows by primary key. A server on SQLite reads the
whole series in one statement in helper processes instead, as numpy columns built in C by
the ADBC driver (heron.store.sqlite_columns has the measurement and why they are other
processes), and takes the chosen points from them. Reading every full row as pages (the
paged history route's path) took 110-150 ms on a 100,000-point SQLite series, most of it
building Python tuples and lists for rows that the chart then drops.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
import numpy.typing as npt

from heron.entities.series import SeriesPage
from heron.store.sqlite_columns import SqliteColumnReader

# Rows per fetchmany: the values become numpy chunks as they arrive, so a series of
# millions of points never sits in memory as Python objects.
_CHUNK = 50_000
# Ids per lookup of the chosen points' rows: SQLite caps the bound parameters of a
# statement (999 in builds before 3.32).
_IDS_PER_LOOKUP = 500

_SERIES = "SELECT series_id FROM metric_series WHERE run_id = ? AND key = ?"
_RUN = "SELECT 1 FROM runs WHERE run_id = ?"
_ORDER = " FROM metrics WHERE series_id = ? ORDER BY step, timestamp, id"
_VALUES = "SELECT value, id" + _ORDER
# One type per column for the ADBC driver (SqliteColumnReader): NaN is stored as NULL.
_SQLITE_POINTS = "SELECT ifnull(value, 0.0), value IS NULL, step, timestamp" + _ORDER
_POINTS = "SELECT step, timestamp, value, is_nan, id FROM metrics WHERE id "

_COUNT = "SELECT count(*) FROM metrics WHERE series_id = ?"

# One SQLite scan at a time per process on the cursor's path. The sqlite3 module lets go
# of the GIL around every row it steps, so scans on several threads (a chart asks for ten
# series at once) hand the GIL back and forth per row: ten 100,000-point series took
# 1.7-2.0 s read concurrently and 0.8-0.9 s one after the other.
_SQLITE_SCAN = threading.Lock()


def _adapt(sql: str, postgres: bool) -> str:
    """The statement in the driver's parameter style (psycopg takes %s, sqlite3 ?)."""
    return sql.replace("?", "%s") if postgres else sql


Chooser = Callable[[npt.NDArray[np.float64]], Sequence[int]]


def count_points(cursor: Any, postgres: bool, run_id: str, key: str) -> int | None:
    """How many points the series holds (0 for a key never logged); None for no run."""

    cursor.execute(_adapt(_SERIES, postgres), (run_id, key))
    found = cursor.fetchone()
    if found is None:
        cursor.execute(_adapt(_RUN, postgres), (run_id,))
        return 0 if cursor.fetchone() is not None else None
    cursor.execute(_adapt(_COUNT, postgres), (found[0],))
    return int(cursor.fetchone()[0])


def _values_and_ids(
    cursor: Any, postgres: bool, series_id: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    value_chunks: list[npt.NDArray[np.float64]] = [np.empty(0, np.float64)]
    id_chunks: list[npt.NDArray[np.int64]] = [np.empty(0, np.int64)]
    with nullcontext() if postgres else _SQLITE_SCAN:
        cursor.execute(_adapt(_VALUES, postgres), (series_id,))
        while rows := cursor.fetchmany(_CHUNK):
            # A NaN is stored as NULL (with is_nan set); numpy reads None as NaN.
            value_chunks.append(np.array([row[0] for row in rows], np.float64))
            id_chunks.append(np.array([row[1] for row in rows], np.int64))
    return np.concatenate(value_chunks), np.concatenate(id_chunks)


def _points_by_id(
    cursor: Any, postgres: bool, key: str, series_id: int, choose: Chooser
) -> SeriesPage:
    values, all_ids = _values_and_ids(cursor, postgres, series_id)
    if not len(values):
        return SeriesPage(key, [], [], [])
    wanted = all_ids[np.asarray(choose(values), np.int64)].tolist()
    points: list[tuple[int, int, float | None, bool, int]] = []
    for start in range(0, len(wanted), _IDS_PER_LOOKUP):
        chunk = wanted[start : start + _IDS_PER_LOOKUP]
        if postgres:
            cursor.execute(_POINTS + "= ANY(%s)", (chunk,))
        else:
            cursor.execute(_POINTS + f"IN ({', '.join('?' * len(chunk))})", chunk)
        points.extend(cursor.fetchall())
    position = {point_id: index for index, point_id in enumerate(wanted)}
    points.sort(key=lambda point: position[point[4]])
    return SeriesPage(
        key,
        [p[0] for p in points],
        [p[1] for p in points],
        [math.nan if p[3] or p[2] is None else float(p[2]) for p in points],
    )


def _points_from_columns(
    columns: SqliteColumnReader, key: str, series_id: int, choose: Chooser
) -> SeriesPage:
    values, is_null, steps, timestamps = columns.read(_SQLITE_POINTS, (series_id,))
    if not len(values):
        return SeriesPage(key, [], [], [])
    values = np.where(is_null.astype(bool), np.nan, values.astype(np.float64))
    chosen = np.asarray(choose(values), np.int64)
    return SeriesPage(
        key,
        steps.astype(np.int64)[chosen].tolist(),
        timestamps.astype(np.int64)[chosen].tolist(),
        values[chosen].tolist(),
    )


def sample_series(
    cursor: Any,
    postgres: bool,
    run_id: str,
    key: str,
    choose: Chooser,
    columns: SqliteColumnReader | None = None,
) -> tuple[SeriesPage, bool]:
    """The points at the positions ``choose`` picks (ascending) out of the series' values
    (NaN where NaN was logged); and whether the run exists. ``columns``, on SQLite, reads
    the series in helper processes; without it the cursor reads it."""
    cursor.execute(_adapt(_SERIES, postgres), (run_id, key))
    found = cursor.fetchone()
    if found is None:
        cursor.execute(_adapt(_RUN, postgres), (run_id,))
        return SeriesPage(key, [], [], []), cursor.fetchone() is not None
    if columns is not None:
        return _points_from_columns(columns, key, found[0], choose), True
    return _points_by_id(cursor, postgres, key, found[0], choose), True
