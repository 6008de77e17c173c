"""Lifecycle and run status enumerations."""

from __future__ import annotations

from enum import Enum


class LifecycleStage(str, Enum):
    """Soft deletion: a deleted experiment or run can be restored."""

    ACTIVE = "active"
    DELETED = "deleted"


class RunStatus(str, Enum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)
