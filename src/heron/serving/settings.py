"""Scoring server settings: passed to ``create_app`` explicitly, read from the
environment only by the uvicorn factory that multi-worker serving needs."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import orjson

from heron.errors import InvalidArgument

SETTINGS_ENV = "HERON_SERVING_SETTINGS"


@dataclass(frozen=True)
class BatchingSettings:
    """Adaptive micro-batching; off (``max_batch_size`` 1) by default, since a model
    whose output has no row per input row cannot be split back per request."""

    max_batch_size: int = 1
    max_latency_ms: float = 2.0

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise InvalidArgument(f"max_batch_size must be >= 1, got {self.max_batch_size}")
        if not 0 <= self.max_latency_ms <= 10_000:
            raise InvalidArgument(
                f"max_latency_ms must be between 0 and 10000, got {self.max_latency_ms}"
            )

    @property
    def enabled(self) -> bool:
        return self.max_batch_size > 1


@dataclass(frozen=True)
class ServingSettings:
    """What a scoring server serves and its limits (all per worker process)."""

    # Exactly one of: a model URI (one model) or an endpoint name (its routes, followed live).
    model_uri: str = ""
    model_name: str | None = None
    endpoint: str | None = None
    tracking_uri: str | None = None
    batching: BatchingSettings = field(default_factory=BatchingSettings)
    # How often an endpoint server asks the control plane for changes.
    poll_interval_s: float = 2.0
    # After failed polls the wait doubles each time, up to this (or the interval if longer).
    poll_backoff_max_s: float = 30.0
    # Requests admitted at once; beyond this the server answers 503 with Retry-After
    # instead of queueing without bound.
    max_queue: int = 128
    request_timeout_s: float = 30.0
    max_body_bytes: int = 32 * 1024 * 1024
    # A folder or fsspec URL for the Parquet prediction log (None: no log), and the
    # share of requests logged.
    prediction_log: str | None = None
    log_sample_rate: float = 1.0
    # Compiled numpy inference for the scikit-learn estimators fast_sklearn knows (same
    # outputs as scikit-learn); False always calls the model's own predict.
    fast_sklearn: bool = True
    # Sticky assignment by a request field: requests without the x-heron-request-key
    # header are routed by this key of their params (MLflow "params", V2 "parameters"),
    # which is taken out before the model sees the params. None: by header only.
    request_key_field: str | None = None

    def __post_init__(self) -> None:
        if bool(self.model_uri) == bool(self.endpoint):
            raise InvalidArgument("serve either a model URI or an endpoint name (exactly one)")
        if self.poll_interval_s <= 0:
            raise InvalidArgument(f"poll interval must be > 0, got {self.poll_interval_s}")
        if self.poll_backoff_max_s <= 0:
            raise InvalidArgument(f"poll backoff cap must be > 0, got {self.poll_backoff_max_s}")
        if self.max_queue < 1:
            raise InvalidArgument(f"max_queue must be >= 1, got {self.max_queue}")
        if self.request_timeout_s <= 0:
            raise InvalidArgument(f"request timeout must be > 0, got {self.request_timeout_s}")
        if not 0 <= self.log_sample_rate <= 1:
            raise InvalidArgument(f"log sample rate must be in [0, 1], got {self.log_sample_rate}")
        if self.request_key_field is not None and not self.request_key_field:
            raise InvalidArgument("the request key field needs a name")
        if self.max_body_bytes < 1:
            raise InvalidArgument(f"max body size must be >= 1, got {self.max_body_bytes}")

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_json(cls, text: str) -> ServingSettings:
        data = orjson.loads(text)
        batching = BatchingSettings(**data.pop("batching"))
        return cls(batching=batching, **data)

    @classmethod
    def from_environment(cls) -> ServingSettings:
        text = os.environ.get(SETTINGS_ENV)
        if not text:
            raise InvalidArgument(f"{SETTINGS_ENV} is not set: start the server with `heron serve`")
        return cls.from_json(text)
