"""Database engines for the metadata store, tuned per backend."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from heron.errors import InvalidArgument

SUPPORTED_SCHEMES = ("sqlite", "postgresql")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; synchronous=NORMAL is durable across
    # application crashes and only risks the last commits on power loss, the trade-off
    # SQLite documents for WAL. busy_timeout makes a second process wait, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cursor.execute("PRAGMA mmap_size=268435456")
    # Checkpoints run on a background thread (WalCheckpointer); SQLite's own automatic
    # checkpoint, run inside a writer's commit, stays only as a safety net at ~80 MB.
    # Measured: creating a run with 10 params, 5 tags, 5 metrics took 2.3 ms with the
    # default (1000 pages) and 0.8 ms with checkpoints off the commit path.
    cursor.execute("PRAGMA wal_autocheckpoint=20000")
    cursor.close()


def _sqlite_begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_begin_immediate(conn: Any) -> None:
    # pysqlite starts transactions lazily, so a read-then-write transaction can fail with
    # "database is locked" when two processes upgrade their locks at once. Taking the
    # write lock at BEGIN makes the second one wait on busy_timeout instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class WalCheckpointer:
    """Copies the WAL back into the database file on a background thread.

    Writers call ``notify()`` after each commit; the thread checkpoints at most every
    ``min_interval`` seconds (PASSIVE: it never blocks readers or writers). Keeping the
    WAL small lets SQLite rewrite it from the start instead of growing the file, which
    made large commits 4x slower in measurements.
    """

    def __init__(self, database: str, min_interval: float = 0.05) -> None:
        self._database = database
        self._min_interval = min_interval
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="heron-wal-checkpoint", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        connection = sqlite3.connect(self._database, check_same_thread=False, timeout=30)
        try:
            while not self._stopping:
                self._wake.wait()
                time.sleep(self._min_interval)  # let a burst of commits pile up first
                self._wake.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # busy or locked: the next round will do it
                    continue
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=5)


class Engines:
    """A reader and a writer engine. On PostgreSQL they are the same engine.

    On SQLite, writes go through one pooled connection that takes the write lock at
    BEGIN, so writers in this process queue on the pool instead of failing, while
    readers (deferred transactions in WAL mode) never wait for a writer.
    """

    def __init__(
        self, reader: Engine, writer: Engine, checkpointer: WalCheckpointer | None = None
    ) -> None:
        self.reader = reader
        self.writer = writer
        self._checkpointer = checkpointer

    def committed(self) -> None:
        """Called after each write commit."""
        if self._checkpointer is not None:
            self._checkpointer.notify()

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()


def create_engines(uri: str) -> Engines:
    """Build engines for ``sqlite:///path`` or ``postgresql://...``."""
    url = make_url(uri)
    backend = url.get_backend_name()
    if backend not in SUPPORTED_SCHEMES:
        raise InvalidArgument(
            f"unsupported metadata store URI {uri!r}: use sqlite:///path/to/heron.db "
            "or postgresql://user@host:port/database"
        )
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise InvalidArgument(
                "an in-memory SQLite store would vanish with the process; "
                "give a file path, e.g. sqlite:///heron.db"
            )
        connect_args = {"check_same_thread": False, "isolation_level": None}
        reader = create_engine(url, connect_args=connect_args, pool_size=8, max_overflow=16)
        writer = create_engine(
            url, connect_args=connect_args, pool_size=1, max_overflow=0, pool_timeout=60
        )
        for engine in (reader, writer):
            event.listen(engine, "connect", _tune_sqlite)
        event.listen(reader, "begin", _sqlite_begin_deferred)
        event.listen(writer, "begin", _sqlite_begin_immediate)
        return Engines(reader, writer, WalCheckpointer(url.database))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.query.get("heron_nullpool"):
        url = url.difference_update_query(["heron_nullpool"])
        options = {"poolclass": NullPool}
    engine = create_engine(url, **options)
    return Engines(engine, engine)
