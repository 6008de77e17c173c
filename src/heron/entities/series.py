"""A page of one metric's history, held as columns."""

from __future__ import annotations

from dataclasses import dataclass

from heron.entities.run import Metric


@dataclass(frozen=True)
class SeriesPage:
    """Points of metric ``key`` in (step, timestamp, arrival) order, one list per field.

    Columns rather than a Metric per point: a history of a million points is read,
    downsampled and written as JSON without building a million objects. Values may be
    NaN or +/-inf, as logged.
    """

    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[float]
    next_page_token: str | None = None

    def metrics(self) -> list[Metric]:
        key = self.key
        return [
            Metric(key, value, timestamp, step)
            for step, timestamp, value in zip(self.steps, self.timestamps, self.values, strict=True)
        ]
