"""Background batching of metric points for the fluent API.

``heron.log_metric`` only validates and enqueues (a few microseconds); a worker
thread sends whatever has accumulated as one batch per run. Under load batches
grow by themselves, so a training loop is never slowed by the store.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Sequence

from heron.entities import Metric
from heron.errors import HeronError

Sender = Callable[[str, Sequence[Metric]], None]


class BatchLogger:
    def __init__(self, send: Sender, *, max_batch: int = 5_000) -> None:
        self._send = send
        self._max_batch = max_batch
        self._queue: deque[tuple[str, Metric]] = deque()
        self._lock = threading.Condition()
        self._in_flight = 0
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
                while not self._queue and not self._closed:
                    self._lock.wait()
                if not self._queue and self._closed:
                    return
                taken = [
                    self._queue.popleft() for _ in range(min(len(self._queue), self._max_batch))
                ]
                self._in_flight += len(taken)
            by_run: dict[str, list[Metric]] = defaultdict(list)
            for run_id, metric in taken:
                by_run[run_id].append(metric)
            for run_id, metrics in by_run.items():
                try:
                    self._send(run_id, metrics)
                except BaseException as exc:  # kept and re-raised by flush() in the caller
                    with self._lock:
                        self._errors.append(exc)
            with self._lock:
                self._in_flight -= len(taken)
                self._lock.notify_all()

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything enqueued so far is stored; raise the first send error."""
        with self._lock:
            done = self._lock.wait_for(lambda: not self._queue and not self._in_flight, timeout)
            errors, self._errors = self._errors, []
        if errors:
            raise errors[0]
        if not done:
            raise HeronError(f"metrics were not all stored within {timeout} s")

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + self._in_flight

    def close(self, timeout: float | None = None) -> None:
        try:
            self.flush(timeout)
        finally:
            with self._lock:
                self._closed = True
                self._lock.notify_all()
            if self._thread is not None:
                self._thread.join(timeout)
