"""What one scoring app holds: settings, metrics, the current traffic table.

Reconfiguring swaps the table in one assignment on the event loop. A version that leaves
the table is retired: it finishes the requests it holds, then its thread and batcher
are closed, so a swap never drops a request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import heron
from heron.client import Client
from heron.client.http_transport import HttpTransport
from heron.models import Model
from heron.serving.metrics import ServingMetrics
from heron.serving.prediction_log import ParquetPredictionLog, PredictionLog
from heron.serving.served_model import ModelLoader, ModelSource, ServedModel
from heron.serving.settings import ServingSettings
from heron.serving.traffic import TrafficTable, WeightedModel

logger = logging.getLogger("heron.serving")

RETRY_AFTER_SECONDS = "1"


class ScoringError(Exception):
    """A request answered with an error status; ``message`` names the problem."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def retry_after() -> dict[str, str]:
    return {"Retry-After": RETRY_AFTER_SECONDS}


def default_loader(client: Client | None) -> ModelLoader:
    def load(uri: str) -> Model:
        return heron.models.load(uri, client=client)

    return load


class ServingState:
    """Everything one app instance holds; nothing lives at module level."""

    def __init__(
        self, settings: ServingSettings, loader: ModelLoader | None, client: Client | None
    ) -> None:
        self.settings = settings
        self.metrics = ServingMetrics()
        self._own_client = client is None and _needs_client(settings)
        self.client = Client(settings.tracking_uri) if self._own_client else client
        self.loader = loader or default_loader(self.client)
        if settings.endpoint:
            self.name = settings.endpoint
        else:
            self.name = ModelSource.from_uri(settings.model_uri, settings.model_name).name
        self.prediction_log: PredictionLog | None = None
        self.table: TrafficTable | None = None
        self.load_error: str | None = None
        self.pending = 0
        # Read when /metrics is scraped, instead of a gauge update on every request.
        self.metrics.queue_depth.set_function(lambda: self.pending)
        self.background: set[asyncio.Task[Any]] = set()
        self._poll_client: Client | None = None

    def open_poll_client(self) -> Client:
        """The client an endpoint's follower polls with: for a remote control plane, one
        that tries once (the follower backs off between polls itself; the default
        client's own retries would hold each poll for ~25 s while the server is down)."""
        assert self.client is not None  # opened for every endpoint
        service = self.client.service
        if isinstance(service, HttpTransport):
            quick = Client(self.client.tracking_uri, transport=service.with_retries(0))
            self._poll_client = quick
            return quick
        return self.client

    def open_prediction_log(self) -> None:
        if self.settings.prediction_log:
            self.prediction_log = ParquetPredictionLog(self.settings.prediction_log, self.metrics)

    def load_single_model(self) -> None:
        """Load, warm up and route to the one model of ``settings.model_uri`` (in a thread)."""
        source = ModelSource.from_uri(self.settings.model_uri, self.settings.model_name)
        settings = self.settings
        served = ServedModel(
            source,
            self.loader(source.uri),
            settings.batching,
            self.metrics,
            fast_sklearn=settings.fast_sklearn,
        )
        served.warm_up()
        self.table = TrafficTable([WeightedModel(served, 1.0)])

    def swap(self, table: TrafficTable) -> None:
        """Route new requests by ``table``; retire the versions it no longer holds."""
        old = self.table
        self.table = table
        self.load_error = None
        if old is None:
            return
        kept = {id(s) for s in table.served_models()}
        for served in old.served_models():
            if id(served) not in kept:
                served.retire()
                self.close_when_idle(served)

    def close_when_idle(self, served: ServedModel) -> None:
        if served.active == 0 and served.retired:
            self.spawn(served.close())

    def spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def answer_to(self, model_name: str) -> TrafficTable:
        table = self.require_table()
        if model_name != self.name:
            raise ScoringError(
                404, f"no model named {model_name!r}; this server serves {self.name!r}"
            )
        return table

    def require_table(self) -> TrafficTable:
        if self.table is None:
            why = f": {self.load_error}" if self.load_error else " (still loading)"
            raise ScoringError(503, f"the model is not ready{why}", retry_after())
        return self.table

    async def close(self) -> None:
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)
        if self.table is not None:
            for served in self.table.served_models():
                await served.close()
        if self.prediction_log is not None:
            await asyncio.to_thread(self.prediction_log.close)
        if self._poll_client is not None:
            self._poll_client.close()
        if self._own_client and self.client is not None:
            self.client.close()


def _needs_client(settings: ServingSettings) -> bool:
    """An endpoint, or a registry or run URI: anything a local path does not cover."""
    return bool(settings.endpoint) or settings.model_uri.startswith(("models:/", "runs:/"))
