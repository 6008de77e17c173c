"""Metric series reduced to at most N points for charts.

Min/max bucketing: the points between the first and the last are cut into equal runs of
consecutive points (the series is ordered by step), and each run keeps its lowest and its
highest point, in series order; the first and last points are always kept. A chart drawn
from that shows the same envelope as the full series: spikes and dips survive, which LTTB
(visually similar on average) does not guarantee, and it is cheap and deterministic.
Buckets are cut by point count rather than by step range so that an outlier step (say
step 10**9 after steps 0..1000) cannot squeeze the whole series into one bucket. NaN
points only survive in a bucket made of NaN alone, where they mark the gap.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from heron.entities import Metric
from heron.entities.series import SeriesPage

if TYPE_CHECKING:
    from heron.services.tracking import TrackingService

MIN_POINTS = 2  # the first and the last point


def minmax_indices(values: npt.NDArray[np.float64], max_points: int) -> list[int]:
    """Indices (ascending) of at most ``max_points`` points to keep out of ``values``."""
    count = len(values)
    if count <= max_points:
        return list(range(count))
    buckets = (max_points - 2) // 2
    if buckets == 0:
        return [0, count - 1]
    # NaN never wins: as +inf for the minimum and -inf for the maximum.
    nan = np.isnan(values)
    lows = np.where(nan, np.inf, values)
    highs = np.where(nan, -np.inf, values)
    # Buckets of the inner points (count > max_points puts at least two in each). Each
    # keeps the first occurrence of its minimum and of its maximum, as argmin and argmax
    # would; done for all buckets at once, where a loop of argmin calls per bucket took
    # several times longer on a 100,000-point series.
    edges = np.linspace(1, count - 1, buckets + 1).astype(np.int64)
    starts, sizes = edges[:-1], np.diff(edges)
    low = _first_in_bucket(lows, np.minimum.reduceat(lows[:-1], starts), starts, sizes)
    high = _first_in_bucket(highs, np.maximum.reduceat(highs[:-1], starts), starts, sizes)
    inner = np.stack([np.minimum(low, high), np.maximum(low, high)], axis=1).ravel()
    # A bucket whose minimum and maximum are the same point keeps it once.
    inner = inner[np.concatenate([[True], inner[1:] != inner[:-1]])]
    return [0, *inner.tolist(), count - 1]


def _first_in_bucket(
    values: npt.NDArray[np.float64],
    extremes: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Per bucket (``starts``, ``sizes`` over the inner points 1..n-2), the first index
    whose value equals the bucket's extreme; every bucket holds its own extreme."""
    hits = np.flatnonzero(values[1:-1] == np.repeat(extremes, sizes)) + 1
    found: npt.NDArray[np.int64] = hits[np.searchsorted(hits, starts)]
    return found


class DownsampleCache:
    """Downsampled histories this process served, reused while their series keeps its
    number of points: histories only grow, so a new point changes the count. Counting
    100,000 points took 4 ms on SQLite where downsampling them took 45-60 ms, which is
    what a chart of ten such runs re-opened (a shared link, a page reload, another metric
    toggled on the compare page) spends instead. Entries are columns (about 100 bytes a
    point); the least recently used go first once they hold ``max_points`` points in all
    (about 25 MB at the default: 125 charted series of 2,000 points)."""

    def __init__(self, max_points: int = 250_000) -> None:
        self._entries: OrderedDict[tuple[str, str, int], tuple[int, SeriesPage]] = OrderedDict()
        self._held = 0
        self._max_points = max_points
        self._lock = threading.Lock()

    def get(self, run_id: str, key: str, max_points: int, count: int) -> list[Metric] | None:
        with self._lock:
            found = self._entries.get((run_id, key, max_points))
            if found is None or found[0] != count:
                return None
            self._entries.move_to_end((run_id, key, max_points))
        return found[1].metrics()

    def put(self, run_id: str, key: str, max_points: int, count: int, page: SeriesPage) -> None:
        size = len(page.steps)
        if size > self._max_points // 4:
            return  # one huge answer would evict everything else
        with self._lock:
            old = self._entries.pop((run_id, key, max_points), None)
            if old is not None:
                self._held -= len(old[1].steps)
            self._entries[(run_id, key, max_points)] = (count, page)
            self._held += size
            while self._held > self._max_points:
                _key, (_count, evicted) = self._entries.popitem(last=False)
                self._held -= len(evicted.steps)


def downsampled_history(
    service: TrackingService, run_id: str, key: str, max_points: int
) -> list[Metric]:
    """The whole series of ``key``, reduced to at most ``max_points`` points.

    The store reads only the values (into numpy, chunk by chunk) for the choice, then the
    chosen points whole (heron.store.sql_metric_sampling has the measurement); an answer
    for a series that has not grown since is reused from ``service.downsampled``.
    """
    count = service.store.count_metric_points(run_id, key)
    cached = service.downsampled.get(run_id, key, max_points, count)
    if cached is not None:
        return cached
    page = service.store.sample_metric_history(
        run_id, key, lambda values: minmax_indices(values, max_points)
    )
    # A point logged between the count and the read makes this entry miss next time.
    service.downsampled.put(run_id, key, max_points, count, page)
    return page.metrics()
