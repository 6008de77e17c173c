"""The prediction log: every (sampled) request and response, as Parquet files.

Files are partitioned Hive-style by endpoint and hour
(``<root>/endpoint=fraud/hour=2026-11-23T16/part-<uuid>.parquet``), so DuckDB reads
them directly::

    SELECT version, count(*) FROM read_parquet('<root>/**/*.parquet', hive_partitioning=1)
    GROUP BY version

The request path only appends a tuple of references to a bounded queue (the request and
response bytes it already holds); a background thread turns them into rows and writes
files. A full queue, a full disk or an unwritable folder drops records and counts them
in ``heron_serving_prediction_log_failures_total``: logging never fails or slows a request.
"""

from __future__ import annotations

import collections
import logging
import threading
import uuid
from abc import ABC, abstractmethod
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, NamedTuple

from heron.serving.metrics import ServingMetrics

logger = logging.getLogger("heron.serving")

MS_PER_HOUR = 3_600_000

SCHEMA_FIELDS = (
    "timestamp",
    "request_id",
    "version",
    "protocol",
    "status",
    "latency_ms",
    "inputs",
    "outputs",
    "error",
)


# A NamedTuple, not a frozen dataclass: built on every logged request, where a frozen
# dataclass (object.__setattr__ per field) took 1.4 us and a tuple 0.4 us; and a tuple of
# plain values leaves the garbage collector's tracking, so a second's worth of pending
# records does not lengthen every collection.
class PredictionRecord(NamedTuple):
    timestamp_ms: int
    endpoint: str
    version: str
    request_id: str
    protocol: str
    status: int
    latency_ms: float
    inputs: bytes  # the request body as sent (JSON or CSV)
    outputs: bytes | None  # the response body; None when the request failed
    error: str | None = None  # why the request failed (4xx/5xx), as the response said


class PredictionLog(ABC):
    """Where scoring servers put what they answered. ``record`` must never block."""

    @abstractmethod
    def record(self, record: PredictionRecord) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Write what is pending and stop."""


class ParquetPredictionLog(PredictionLog):
    def __init__(
        self,
        root: str,
        metrics: ServingMetrics,
        *,
        max_pending: int = 100_000,
        flush_interval_s: float = 1.0,
    ) -> None:
        import fsspec

        self._fs, self._root = fsspec.core.url_to_fs(root)
        self._metrics = metrics
        # A deque, not a queue.Queue: appending takes no lock and wakes no thread. With a
        # Queue, each put woke the writer, and the handovers cost 0.18 ms of CPU per
        # request (measured at 16 connections: 0.32 -> 0.50 ms per request).
        self._pending: collections.deque[PredictionRecord] = collections.deque()
        self._max_pending = max_pending
        self._flush_interval = flush_interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heron-prediction-log", daemon=True)
        self._thread.start()

    def record(self, record: PredictionRecord) -> None:
        if len(self._pending) >= self._max_pending:
            self._metrics.prediction_log_failures.labels("queue_full").inc()
            return
        self._pending.append(record)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._flush_interval):
            self._flush(self._drain())
        self._flush(self._drain())

    def _drain(self) -> list[PredictionRecord]:
        taken = []
        pending = self._pending
        for _ in range(len(pending)):
            taken.append(pending.popleft())
        return taken

    def _flush(self, records: list[PredictionRecord]) -> None:
        if not records:
            return
        # Grouped by the hour's number, formatted once per group: formatting a date per
        # record was half the writer's time.
        groups: dict[tuple[str, int], list[PredictionRecord]] = defaultdict(list)
        for r in records:
            groups[(r.endpoint, r.timestamp_ms // MS_PER_HOUR)].append(r)
        for (endpoint, hour_number), rows in groups.items():
            hour = datetime.fromtimestamp(hour_number * 3600, timezone.utc).strftime("%Y-%m-%dT%H")
            try:
                self._write(endpoint, hour, rows)
            except Exception as error:  # disk full, permissions, object store down
                self._metrics.prediction_log_failures.labels("write_failed").inc(len(rows))
                logger.warning("prediction log: dropped %d records: %s", len(rows), error)

    def _write(self, endpoint: str, hour: str, rows: list[PredictionRecord]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # Records are tuples: zip transposes them into columns in C, where a list
        # comprehension per column walked the records nine times in Python.
        (timestamps, _, versions, request_ids, protocols, statuses, latencies, inputs,
         outputs, errors) = zip(*rows, strict=True)  # fmt: skip
        table = pa.table(
            {
                "timestamp": pa.array(timestamps, pa.timestamp("ms", "UTC")),
                "request_id": pa.array(request_ids, pa.string()),
                "version": pa.array(versions, pa.string()),
                "protocol": pa.array(protocols, pa.string()),
                "status": pa.array(statuses, pa.int16()),
                "latency_ms": pa.array(latencies, pa.float64()),
                "inputs": _texts(inputs),
                "outputs": _texts(outputs),
                "error": pa.array(errors, pa.string()),
            }
        )
        folder = f"{self._root}/endpoint={endpoint}/hour={hour}"
        self._fs.makedirs(folder, exist_ok=True)
        # Written under a hidden name, then renamed: a reader never sees half a file.
        name = f"part-{uuid.uuid4().hex}.parquet"
        partial = f"{folder}/.{name}.tmp"
        with self._fs.open(partial, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
        self._fs.mv(partial, f"{folder}/{name}")


def _texts(bodies: tuple[bytes | None, ...]) -> Any:
    """Bodies as a string column: pyarrow takes UTF-8 bytes as they are; a batch holding
    anything else is decoded with replacement characters first."""
    import pyarrow as pa

    try:
        return pa.array(bodies, pa.string())
    except pa.ArrowInvalid:
        return pa.array(
            [None if b is None else b.decode("utf-8", errors="replace") for b in bodies],
            pa.string(),
        )
