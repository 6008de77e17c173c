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

from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from heron.entities import Metric
from heron.services.validation import MAX_RESULTS

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
    edges = np.linspace(1, count - 1, buckets + 1).astype(np.int64)
    keep = [0]
    for start, stop in pairwise(edges.tolist()):
        if stop <= start:
            continue
        low = start + int(np.argmin(lows[start:stop]))
        high = start + int(np.argmax(highs[start:stop]))
        keep.extend(sorted({low, high}))
    keep.append(count - 1)
    return keep


def downsampled_history(
    service: TrackingService, run_id: str, key: str, max_points: int
) -> list[Metric]:
    """The whole series of ``key``, reduced to at most ``max_points`` points.

    Pages are copied into numpy columns (24 bytes a point) and dropped, so a series of
    millions of points never sits in memory as Python objects.
    """
    steps: list[npt.NDArray[np.int64]] = []
    stamps: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.float64]] = []
    token: str | None = None
    while True:
        page = service.get_metric_series(run_id, key, max_results=MAX_RESULTS, page_token=token)
        steps.append(np.array(page.steps, np.int64))
        stamps.append(np.array(page.timestamps, np.int64))
        values.append(np.array(page.values, np.float64))
        token = page.next_page_token
        if token is None:
            break
    all_steps = np.concatenate(steps)
    all_stamps = np.concatenate(stamps)
    all_values = np.concatenate(values)
    return [
        Metric(key, float(all_values[i]), int(all_stamps[i]), int(all_steps[i]))
        for i in minmax_indices(all_values, max_points)
    ]
