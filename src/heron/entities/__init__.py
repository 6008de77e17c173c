"""Heron's domain objects: plain frozen dataclasses, no I/O."""

from heron.entities.artifact import FileInfo
from heron.entities.experiment import Experiment
from heron.entities.lifecycle import LifecycleStage, RunStatus
from heron.entities.page import Page
from heron.entities.run import Dataset, Metric, Param, Run, RunInput, RunTag

__all__ = [
    "Dataset",
    "Experiment",
    "FileInfo",
    "LifecycleStage",
    "Metric",
    "Page",
    "Param",
    "Run",
    "RunInput",
    "RunStatus",
    "RunTag",
]
