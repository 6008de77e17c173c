"""Whole SQLite columns read in helper processes by the ADBC driver, for long scans.

Python's sqlite3 module makes a tuple and a Python object per column for every row and
gives up the GIL around each row it steps. Reading the 100,000 points of one metric
series took 50-60 ms that way, and a chart of ten series read at once in the server
handed the GIL between threads per row: 1.1 s for the ten. The ADBC driver steps the
statement and builds Arrow arrays in C: 20 ms for the same series.

The driver carries its own copy of SQLite, and two copies of SQLite must never open one
database file in the same process: POSIX locks are per process, so neither copy sees
the other's locks, and one copy resetting the WAL index under the other's readers
crashed the server with SIGBUS in a test (https://www.sqlite.org/howtocorrupt.html,
section 2.2). So the driver runs only in helper processes, which open the file as
read-only WAL readers like any other process, and send the columns back as numpy
arrays (3 MB for 100,000 points, a few ms through the pipe). Two helpers read two
series at once on two cores: ten series took 0.33 s in the server instead of 1.1 s.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import numpy.typing as npt

# Wait for a writer's lock as the store's own connections do (engine._tune_sqlite).
_BUSY_TIMEOUT_MS = 30_000
# Helper processes per store: one per core on the 2-core machines Heron targets first.
_HELPERS = 2

Columns = list[npt.NDArray[Any]]


class SqliteColumnReader:
    """Runs read-only statements on ``database`` in helper processes (started on first
    use) and returns each result column as a numpy array.

    The driver infers each column's type from the first rows it reads and fails if a
    later row has another type (say a NULL first, then a REAL), so statements must give
    every column one type: ``ifnull(value, 0.0)`` beside ``value IS NULL``, not ``value``.
    """

    def __init__(self, database: str) -> None:
        self._uri = f"file:{quote(str(Path(database).resolve()))}?mode=ro"
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def start(self) -> None:
        """Start the helper processes now, without waiting for them: a server calls this
        at start-up so that its first chart does not wait for them to import."""
        pool = self._executor()
        for _ in range(_HELPERS):
            pool.submit(_warm_up)

    def read(self, sql: str, parameters: Sequence[Any]) -> Columns:
        pool = self._executor()
        arguments = (self._uri, sql, tuple(parameters))
        try:
            return pool.submit(_read_columns, *arguments).result()
        except BrokenProcessPool:
            # A helper died (killed, out of memory): start new ones and try once more.
            self._discard(pool)
            return self._executor().submit(_read_columns, *arguments).result()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the store is closed")
            if self._pool is None:
                # Not fork: the server has threads, and a forked child would inherit the
                # parent's open SQLite connections. Helpers fork from a fresh server
                # process that has imported this module (once per process, ~0.5 s).
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([__name__])
                self._pool = ProcessPoolExecutor(_HELPERS, mp_context=context)
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


# -- in the helper processes ----------------------------------------------------------

_connections: dict[str, Any] = {}


def _warm_up() -> None:
    import adbc_driver_sqlite.dbapi  # noqa: F401


def _read_columns(uri: str, sql: str, parameters: tuple[Any, ...]) -> Columns:
    connection = _connections.get(uri)
    if connection is None:
        connection = _connections[uri] = _connect(uri)
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        table = cursor.fetch_arrow_table()
    finally:
        cursor.close()
    return [np.asarray(column.to_numpy()) for column in table.columns]


def _connect(uri: str) -> Any:
    import adbc_driver_sqlite.dbapi as adbc  # only ever imported in a helper process

    # Autocommit: each read sees what was committed before it (a DB-API transaction
    # left open would keep the first read's snapshot for the connection's lifetime).
    connection = adbc.connect(uri, autocommit=True)
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.fetchall()
    finally:
        cursor.close()
    return connection
