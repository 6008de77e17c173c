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
from dataclasses import dataclass
from datetime import datetime, timezone

from heron.serving.metrics import ServingMetrics

logger = logging.getLogger("heron.serving")

SCHEMA_FIELDS = (
    "timestamp",
    "request_id",
    "version",
    "protocol",
    "status",
    "latency_ms",
    "inputs",
    "outputs",
)


@dataclass(frozen=True)
class PredictionRecord:
    timestamp_ms: int
    endpoint: str
    version: str
    request_id: str
    protocol: str
    status: int
    latency_ms: float
    inputs: bytes  # the request body as sent (JSON or CSV)
    outputs: bytes  # the response body


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
        groups: dict[tuple[str, str], list[PredictionRecord]] = defaultdict(list)
        for r in records:
            at = datetime.fromtimestamp(r.timestamp_ms / 1000, timezone.utc)
            groups[(r.endpoint, at.strftime("%Y-%m-%dT%H"))].append(r)
        for (endpoint, hour), rows in groups.items():
            try:
                self._write(endpoint, hour, rows)
            except Exception as error:  # disk full, permissions, object store down
                self._metrics.prediction_log_failures.labels("write_failed").inc(len(rows))
                logger.warning("prediction log: dropped %d records: %s", len(rows), error)

    def _write(self, endpoint: str, hour: str, rows: list[PredictionRecord]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(
            {
                "timestamp": pa.array([r.timestamp_ms for r in rows], pa.timestamp("ms", "UTC")),
                "request_id": [r.request_id for r in rows],
                "version": [r.version for r in rows],
                "protocol": [r.protocol for r in rows],
                "status": pa.array([r.status for r in rows], pa.int16()),
                "latency_ms": pa.array([r.latency_ms for r in rows], pa.float64()),
                "inputs": [_text(r.inputs) for r in rows],
                "outputs": [_text(r.outputs) for r in rows],
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


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
