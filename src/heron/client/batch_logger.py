"""Background batching of metric points for the fluent API.

``heron.log_metric`` only validates and enqueues (a few microseconds); a worker
thread sends whatever has accumulated as one batch per run. Under load batches
grow by themselves, so a training loop is never slowed by the store.

When the tracking server is unreachable (``Unavailable``), points are gathered into
full batches that go to a spool file on disk with their request ids and are resent, in
order, once the server answers again (retried every few seconds, and at once by
``flush``); ``heron sync`` replays the spool of a process that died first.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from heron.client.spool import Spool
from heron.entities import Metric
from heron.errors import HeronError, Unavailable

# send(run_id, metrics, request_id)
Sender = Callable[[str, Sequence[Metric], str], None]

_log = logging.getLogger("heron")


@dataclass(frozen=True)
class _Batch:
    run_id: str
    request_id: str
    metrics: tuple[Metric, ...]


class BatchLogger:
    def __init__(
        self,
        send: Sender,
        *,
        max_batch: int = 5_000,
        spool: Spool | None = None,
        retry_interval: float = 1.0,
        max_retry_interval: float = 5.0,
    ) -> None:
        """While the server is unreachable, spooled batches are retried after
        ``retry_interval`` seconds, doubling up to ``max_retry_interval``. The cap is what
        the data may lag behind the server's return: with 30 s, a 30 s outage left the spool
        undrained for another 30 s (tests/test_reliability.py); a failed retry costs only a
        refused connection."""
        self._send = send
        self._max_batch = max_batch
        self._spool = spool
        self._retry_interval = retry_interval
        self._max_retry_interval = max_retry_interval
        self._queue: deque[tuple[str, Metric]] = deque()
        self._spooled: list[_Batch] = []  # the spool file's content, in order
        self._next_retry = 0.0
        self._backoff = retry_interval
        self._lock = threading.Condition()
        self._in_flight = 0
        self._flushing = 0  # callers waiting in flush()
        self._errors: list[BaseException] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def enqueue(self, run_id: str, metrics: Sequence[Metric]) -> None:
        with self._lock:
            if self._closed:
                raise HeronError("the metric logger is closed; this process is shutting down")
            self._queue.extend((run_id, metric) for metric in metrics)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="heron-batch-logger", daemon=True
                )
                self._thread.start()
            self._lock.notify_all()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._has_work() and not self._closed:
                    timeout = self._seconds_to_retry()
                    self._lock.wait(timeout)
                if self._closed and not self._has_work():
                    return
                count = min(len(self._queue), self._max_batch)
                taken = [self._queue.popleft() for _ in range(count)]
                self._in_flight += len(taken)
            try:
                self._retry_spooled()
                for batch in _group(taken):
                    self._deliver(batch)
            finally:
                with self._lock:
                    self._in_flight -= len(taken)
                    self._lock.notify_all()

    def _has_work(self) -> bool:
        retry_due = bool(self._spooled) and self._seconds_to_retry() == 0
        if not self._spooled or self._flushing or self._closed:
            return bool(self._queue) or retry_due
        # The server is unreachable: gather points into full batches until the next retry,
        # so an outage leaves a few large batches to resend rather than thousands of tiny
        # ones (one per fsync): replaying 30 s of a loop logging 1,000 points a second took
        # 20 s that way (tests/test_reliability.py).
        return retry_due or len(self._queue) >= self._max_batch

    def _seconds_to_retry(self) -> float | None:
        if not self._spooled:
            return None
        return max(0.0, self._next_retry - time.monotonic())

    def _deliver(self, batch: _Batch) -> None:
        if self._spooled:  # keep order: nothing overtakes what is already spooled
            self._keep(batch)
            return
        try:
            self._send(batch.run_id, batch.metrics, batch.request_id)
        except Unavailable as exc:
            _log.warning("tracking server unavailable, keeping metrics on disk: %s", exc)
            self._keep(batch)
        except BaseException as exc:  # kept and re-raised by flush() in the caller
            with self._lock:
                self._errors.append(exc)

    def _keep(self, batch: _Batch) -> None:
        if self._spool is None:
            with self._lock:
                self._errors.append(Unavailable("tracking server unavailable; metrics lost"))
            return
        self._spool.append(batch.run_id, batch.request_id, batch.metrics)
        with self._lock:
            if not self._spooled:
                self._next_retry = time.monotonic() + self._backoff
            self._spooled.append(batch)

    def _retry_spooled(self) -> None:
        with self._lock:
            if not self._spooled or self._seconds_to_retry():
                return
            pending = list(self._spooled)
        sent = 0
        for batch in pending:
            try:
                self._send(batch.run_id, batch.metrics, batch.request_id)
            except Unavailable:
                break
            except BaseException as exc:
                with self._lock:
                    self._errors.append(exc)
            sent += 1
        with self._lock:
            del self._spooled[:sent]
            if self._spooled:
                self._backoff = min(self._backoff * 2, self._max_retry_interval)
                self._next_retry = time.monotonic() + self._backoff
            else:
                self._backoff = self._retry_interval
                if self._spool is not None:
                    self._spool.clear()
            self._lock.notify_all()

    def flush(self, timeout: float | None = None, spool_timeout: float = 30.0) -> None:
        """Wait until everything enqueued so far is sent; raise the first send error.

        While the server is unreachable, waits at most ``spool_timeout`` seconds for it
        to answer again, then returns with the rest safe in the spool file (resent later
        by this process, or by ``heron sync`` if it ends first).
        """
        with self._lock:
            self._flushing += 1
            try:
                self._lock.notify_all()
                sent = self._lock.wait_for(lambda: not self._queue and not self._in_flight, timeout)
                if sent and self._spooled:
                    # Someone waits now: try the server at once rather than at the next timer.
                    self._next_retry = time.monotonic()
                    self._lock.notify_all()
                    self._lock.wait_for(lambda: not self._spooled, spool_timeout)
            finally:
                self._flushing -= 1
            errors, self._errors = self._errors, []
            spooled = sum(len(b.metrics) for b in self._spooled)
        if errors:
            raise errors[0]
        if not sent:
            raise HeronError(f"metrics were not all stored within {timeout} s")
        if spooled and self._spool is not None:
            _log.warning(
                "%d metric points are kept in %s until the tracking server answers; "
                "`heron sync` sends them if this process ends first",
                spooled,
                self._spool.path,
            )

    @property
    def pending(self) -> int:
        with self._lock:
            spooled = sum(len(b.metrics) for b in self._spooled)
            return len(self._queue) + self._in_flight + spooled

    def close(self, timeout: float | None = None) -> None:
        try:
            self.flush(timeout)
        finally:
            with self._lock:
                self._closed = True
                self._lock.notify_all()
            if self._thread is not None:
                self._thread.join(timeout)


def _group(taken: list[tuple[str, Metric]]) -> list[_Batch]:
    by_run: dict[str, list[Metric]] = defaultdict(list)
    for run_id, metric in taken:
        by_run[run_id].append(metric)
    return [_Batch(run_id, uuid.uuid4().hex, tuple(ms)) for run_id, ms in by_run.items()]
