"""Following an endpoint's configuration in the control plane, without restarts.

Every ``poll_interval_s`` the follower reads the endpoint and resolves its model URIs
(an alias that moved counts as a change, even if the endpoint did not). When what should
be served differs from what is, it loads and warms up the new versions beside the old
ones, then swaps the traffic table in one step; versions that stay are reused as they
are. A configuration that cannot be loaded is logged and not applied: the server keeps
serving the last one that worked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from dataclasses import dataclass

from heron.client import Client
from heron.entities.endpoint import Endpoint
from heron.entities.model_uri import MODELS_SCHEME
from heron.serving.served_model import ModelSource, ServedModel
from heron.serving.settings import BatchingSettings
from heron.serving.state import ServingState
from heron.serving.traffic import TrafficTable, WeightedModel

logger = logging.getLogger("heron.serving")


def backoff_delay(failures: int, interval: float, cap: float) -> float:
    """The wait after ``failures`` failed polls in a row: the interval doubled per
    failure, never above ``cap`` (nor below the interval)."""
    if failures <= 0:
        return interval
    return max(interval, min(interval * 2.0 ** min(failures, 32), cap))


@dataclass(frozen=True)
class Plan:
    """What should be served: pinned sources, weights, shadows and batching."""

    routes: tuple[tuple[ModelSource, int], ...]
    shadows: tuple[ModelSource, ...]
    batching: BatchingSettings
    revision: int

    @property
    def key(self) -> Hashable:
        return (self.routes, self.shadows, self.batching)


class EndpointFollower:
    def __init__(self, state: ServingState, client: Client) -> None:
        self._state = state
        self._client = client
        self._name = state.name
        self._key: Hashable | None = None
        self._loaded: dict[tuple[str, BatchingSettings], ServedModel] = {}
        self.revision = 0

    async def run(self) -> None:
        """Poll forever; after failures, back off exponentially up to a cap.

        A control plane that is down (or restarting under load) is not asked again every
        ``poll_interval_s`` by every worker of every replica: each failed poll doubles the
        wait, up to ``poll_backoff_max_s``, and the first success returns to the interval.
        """
        settings = self._state.settings
        metrics = self._state.metrics
        failures = 0
        while True:
            try:
                await self.sync()
            except Exception as error:  # the control plane is down or the config is bad
                failures += 1
                metrics.control_plane_failures.inc()
                message = f"{type(error).__name__}: {error}"
                delay = backoff_delay(
                    failures, settings.poll_interval_s, settings.poll_backoff_max_s
                )
                logger.warning(
                    "endpoint %r: keeping the current routes (poll failed %d time(s) in a "
                    "row, next in %.1f s): %s",
                    self._name,
                    failures,
                    delay,
                    message,
                )
                if self._state.table is None:
                    self._state.load_error = message
            else:
                if failures:
                    logger.info(
                        "endpoint %r: control plane answers again after %d failed poll(s)",
                        self._name,
                        failures,
                    )
                failures = 0
                delay = settings.poll_interval_s
            metrics.poll_delay.set(delay)
            await asyncio.sleep(delay)

    async def sync(self) -> bool:
        """Apply the endpoint's current configuration; True if anything changed."""
        endpoint = await asyncio.to_thread(self._client.get_endpoint, self._name)
        plan = await asyncio.to_thread(self._plan, endpoint)
        if plan.key == self._key:
            return False
        table = await self._build(plan)
        self._state.swap(table)
        self._key = plan.key
        self.revision = plan.revision
        self._loaded = {k: s for k, s in self._loaded.items() if not s.retired}
        routed = ", ".join(f"{s.version}={w}" for s, w in plan.routes)
        logger.info("endpoint %r revision %d: %s", self._name, plan.revision, routed)
        return True

    def _plan(self, endpoint: Endpoint) -> Plan:
        batching = BatchingSettings(
            endpoint.batching.max_batch_size, endpoint.batching.max_latency_ms
        )
        return Plan(
            routes=tuple((self._resolve(r.model_uri), r.weight) for r in endpoint.routes),
            shadows=tuple(self._resolve(uri) for uri in endpoint.shadows),
            batching=batching,
            revision=endpoint.revision,
        )

    def _resolve(self, uri: str) -> ModelSource:
        """The source pinned to a version: ``models:/fraud@champion`` -> ``models:/fraud/6``."""
        if uri.startswith(MODELS_SCHEME):
            version = self._client.registry.resolve(uri)
            pinned = f"{MODELS_SCHEME}{version.name}/{version.version}"
            return ModelSource(pinned, self._name, str(version.version))
        label = uri.rstrip("/").rsplit("/", 1)[-1] or uri
        return ModelSource(uri, self._name, label)

    async def _build(self, plan: Plan) -> TrafficTable:
        routes = [
            WeightedModel(await self._served(source, plan.batching), weight)
            for source, weight in plan.routes
        ]
        shadows = [await self._served(source, plan.batching) for source in plan.shadows]
        return TrafficTable(routes, shadows)

    async def _served(self, source: ModelSource, batching: BatchingSettings) -> ServedModel:
        key = (source.uri, batching)
        served = self._loaded.get(key)
        if served is None or served.retired:
            served = await asyncio.to_thread(self._load, source, batching)
            self._loaded[key] = served
        return served

    def _load(self, source: ModelSource, batching: BatchingSettings) -> ServedModel:
        state = self._state
        served = ServedModel(
            source,
            state.loader(source.uri),
            batching,
            state.metrics,
            fast_sklearn=state.settings.fast_sklearn,
        )
        served.warm_up()
        return served
