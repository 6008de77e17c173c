"""Prometheus metrics of a scoring server, in a registry of its own per app.

Latency buckets start at 250 microseconds: a scoring request is often far faster than
the default buckets' first edge (5 ms), which would put every request in one bucket.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

LATENCY_BUCKETS = (
    0.00025,
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "heron_serving_requests",
            "Scoring requests by protocol, model version and HTTP status.",
            ["protocol", "version", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "heron_serving_request_duration_seconds",
            "Time from a scoring request's body read to its response built, by model version.",
            ["version"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "heron_serving_batch_rows",
            "Rows per predict call (several requests when micro-batching merges them).",
            ["version"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "heron_serving_queue_depth",
            "Scoring requests admitted and not yet answered, in this worker.",
            registry=self.registry,
        )
        self.rejected = Counter(
            "heron_serving_rejected",
            "Requests refused before scoring: overloaded (503) or timed out (504).",
            ["reason"],
            registry=self.registry,
        )
        self.shadow_errors = Counter(
            "heron_serving_shadow_errors",
            "Shadow predictions that failed (their responses are discarded either way).",
            ["version"],
            registry=self.registry,
        )
        self.prediction_log_failures = Counter(
            "heron_serving_prediction_log_failures",
            "Prediction log records dropped because they could not be written (disk full, "
            "unwritable folder) or the writer's queue was full. Alert on any increase.",
            ["reason"],
            registry=self.registry,
        )

        self.control_plane_failures = Counter(
            "heron_serving_control_plane_failures",
            "Polls of the control plane for the endpoint's configuration that failed "
            "(unreachable, or a configuration that could not be loaded).",
            registry=self.registry,
        )
        self.poll_delay = Gauge(
            "heron_serving_poll_delay_seconds",
            "Wait before the next poll of the control plane: the poll interval, or longer "
            "while backing off after failures.",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
