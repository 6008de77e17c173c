"""Whole SQLite columns read in helper processes by the ADBC driver, for long scans.

Python's sqlite3 module makes a tuple and a Python object per column for every row and
gives up the GIL around each row it steps. Reading the 100,000 points of one metric
series took 50-60 ms that way, and a chart of ten series read at once in the server
handed the GIL between threads per row: 1.1 s for the ten. The ADBC driver steps the
statement and builds Arrow arrays in C: 20 ms for the same series.

The driver carries its own copy of SQLite, and two copies of SQLite must never open one
database file in the same process: POSIX locks are per process, so neither copy sees
the other's locks, and one copy resetting the WAL index under the other's readers
crashed the server with SIGBUS in a trial (https://www.sqlite.org/howtocorrupt.html,
section 2.2). So the driver runs only in helper processes (sqlite_column_worker),
which open the file read-only like any other WAL reader and send the columns back as
numpy arrays (3 MB for 100,000 points, a few ms through a pipe). Plain subprocesses,
not multiprocessing, which imports the parent's main module again in each child and so
would run an unguarded script twice. Two helpers read two series at once on two cores:
ten series took 0.33 s in the server.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import numpy.typing as npt

from heron.store import sqlite_column_worker
from heron.store.sqlite_column_worker import receive, send

# Reads at once, each in its own helper: one per core on the 2-core machines Heron
# targets first.
_HELPERS = 2

Columns = list[npt.NDArray[Any]]


class HelperFailed(RuntimeError):
    """A helper process died or answered nonsense (it is replaced on the next read)."""


class _Helper:
    def __init__(self) -> None:
        # The worker's file run as a script, not ``-m``: importing the heron package
        # (the client, the models) would double the helper's start-up.
        self.process = subprocess.Popen(
            [sys.executable, sqlite_column_worker.__file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._requests: IO[bytes] = self.process.stdin
        self._answers: IO[bytes] = self.process.stdout

    def ask(self, request: tuple[str, str, tuple[Any, ...]]) -> Any:
        try:
            send(self._requests, request)
            answer = receive(self._answers)
        except OSError as error:
            raise HelperFailed(f"column reader process failed: {error}") from None
        if answer is None:
            raise HelperFailed(f"column reader process exited ({self.process.poll()})")
        return answer

    def stop(self) -> None:
        # Closing its input ends it (and lets a coverage run write its data); it only
        # reads, so one that does not end at once is killed.
        with contextlib.suppress(OSError):
            self._requests.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            self._answers.close()


class SqliteColumnReader:
    """Runs read-only statements on ``database`` in helper processes and returns each
    result column as a numpy array.

    The driver infers each column's type from the first rows it reads and fails if a
    later row has another type (say a NULL first, then a REAL), so statements must give
    every column one type: ``ifnull(value, 0.0)`` beside ``value IS NULL``, not ``value``.
    """

    def __init__(self, database: str) -> None:
        self._uri = f"file:{quote(str(Path(database).resolve()))}?mode=ro"
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(_HELPERS)
        self._idle: list[_Helper] = []

    def start(self) -> None:
        """Start the helpers now: they take about half a second to import, which a
        server's first chart should not wait for."""
        with self._lock:
            while len(self._idle) < _HELPERS:
                self._idle.append(_Helper())

    def read(self, sql: str, parameters: Sequence[Any]) -> Columns:
        request = (self._uri, sql, tuple(parameters))
        with self._slots:
            helper = self._take()
            try:
                answer = helper.ask(request)
            except HelperFailed:
                # Killed (say by the out-of-memory killer): once more on a new helper.
                helper.stop()
                helper = _Helper()
                try:
                    answer = helper.ask(request)
                except HelperFailed:
                    helper.stop()
                    raise
            self._give_back(helper)
        status, value = answer
        if status != "ok":
            raise RuntimeError(f"reading SQLite columns failed: {value}")
        columns: Columns = value
        return columns

    def close(self) -> None:
        """Stop the idle helpers. Like a disposed SQLAlchemy engine, the reader still
        works afterwards, on new helpers; a helper busy now is kept when it is done, and
        exits with this process (its input closes)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for helper in idle:
            helper.stop()

    def _take(self) -> _Helper:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Helper()

    def _give_back(self, helper: _Helper) -> None:
        with self._lock:
            self._idle.append(helper)
