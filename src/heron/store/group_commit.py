"""Group commit for SQLite's single writer.

SQLite allows one writer at a time and each commit costs a WAL append, so under
concurrent load (a server with many clients) committing every request separately
caps throughput at the commit rate. Here the first writer to arrive becomes the
leader: it runs every write queued meanwhile in one transaction, each inside its own
savepoint so that one failing request does not undo the others, commits once, and
wakes their callers. A writer alone pays nothing extra: it is the leader of a group
of one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Work = Callable[[Any], T]  # receives a DBAPI cursor inside the group's transaction


@dataclass
class _Pending(Generic[T]):
    work: Work[T]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


@dataclass
class GroupStats:
    groups: int = 0
    writes: int = 0
    largest: int = 0


class GroupCommitter:
    def __init__(self, connect: Callable[[], Any], max_group: int = 256) -> None:
        """``connect()`` returns a pooled DBAPI connection (closed after each group)."""
        self._connect = connect
        self._max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[_Pending[Any]] = []
        self._leading = False
        self.stats = GroupStats()

    def run(self, work: Work[T]) -> T:
        """Run ``work(cursor)`` in a write transaction, committed with whatever else is queued."""
        pending: _Pending[T] = _Pending(work)
        with self._lock:
            self._queue.append(pending)
            follower = self._leading
            self._leading = True
        if follower:
            pending.done.wait()
        else:
            self._lead()
        if pending.error is not None:
            raise pending.error
        result: T = pending.result
        return result

    def _lead(self) -> None:
        while True:
            with self._lock:
                group = self._queue[: self._max_group]
                del self._queue[: len(group)]
                if not group:
                    self._leading = False
                    return
            try:
                self._commit(group)
            finally:
                for pending in group:
                    pending.done.set()

    def _commit(self, group: list[_Pending[Any]]) -> None:
        connection = self._connect()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                if len(group) == 1:
                    group[0].result = group[0].work(cursor)
                else:
                    for pending in group:
                        self._run_in_savepoint(cursor, pending)
                connection.commit()
                self.stats.groups += 1
                self.stats.writes += len(group)
                self.stats.largest = max(self.stats.largest, len(group))
            except BaseException as exc:
                connection.rollback()
                for pending in group:
                    if pending.error is None:
                        pending.error = exc
                        pending.result = None
            finally:
                cursor.close()
        finally:
            connection.close()

    @staticmethod
    def _run_in_savepoint(cursor: Any, pending: _Pending[Any]) -> None:
        cursor.execute("SAVEPOINT heron_write")
        try:
            pending.result = pending.work(cursor)
        except Exception as exc:  # this request fails alone; the group goes on
            pending.error = exc
            cursor.execute("ROLLBACK TO SAVEPOINT heron_write")
        cursor.execute("RELEASE SAVEPOINT heron_write")
