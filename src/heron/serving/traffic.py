"""Which served version answers a request: weighted routes, sticky keys, shadows.

A ``TrafficTable`` is immutable; reconfiguring the server swaps in a new table, so a
request in flight keeps the version it was given.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from heron.errors import InvalidArgument
from heron.serving.served_model import ServedModel

# The header whose value pins a caller to one version (A/B tests): equal keys, equal
# versions, for as long as the weights do not change.
REQUEST_KEY_HEADER = "x-heron-request-key"
VERSION_HEADER = "x-heron-model-version"


@dataclass(frozen=True)
class WeightedModel:
    served: ServedModel
    weight: float


class TrafficTable:
    def __init__(
        self, routes: Sequence[WeightedModel], shadows: Sequence[ServedModel] = ()
    ) -> None:
        if not routes:
            raise InvalidArgument("an endpoint needs at least one route")
        total = sum(r.weight for r in routes)
        if total <= 0 or any(r.weight < 0 for r in routes):
            raise InvalidArgument("route weights must be >= 0 and add up to more than 0")
        self.routes = tuple(routes)
        self.shadows = tuple(shadows)
        self._bounds: list[float] = []
        cumulative = 0.0
        for route in routes:
            cumulative += route.weight / total
            self._bounds.append(cumulative)

    def pick(self, key: str | None = None) -> ServedModel:
        if len(self.routes) == 1:
            return self.routes[0].served
        point = sticky_point(key) if key else random.random()
        for bound, route in zip(self._bounds, self.routes, strict=True):
            if point < bound:
                return route.served
        return self.routes[-1].served  # point just below 1.0 against a rounded last bound

    def served_models(self) -> list[ServedModel]:
        seen: dict[int, ServedModel] = {}
        for served in [r.served for r in self.routes] + list(self.shadows):
            seen.setdefault(id(served), served)
        return list(seen.values())


def sticky_point(key: str) -> float:
    """A key's fixed place in [0, 1): a hash, so every worker and replica agrees."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
