"""The model registry: registered models, versions, aliases, stages, requests, audit, lineage."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from heron.entities.lifecycle import LifecycleStage


class ModelVersionStatus(str, Enum):
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    READY = "READY"
    FAILED = "FAILED"


class Stage(str, Enum):
    """MLflow's stages, kept for MLflow users. Heron moves them like aliases (see
    ``LabelChange``): a stage is a label on versions, governed and audited the same way."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, text: str) -> Stage:
        for stage in cls:
            if stage.value.lower() == text.strip().lower():
                return stage
        names = ", ".join(s.value for s in cls)
        raise ValueError(f"unknown stage {text!r}: use one of {names}")


class RequestStatus(str, Enum):
    OPEN = "OPEN"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class Role(str, Enum):
    """Registry roles. An approver accepts transition requests; an admin also grants roles
    and changes a model's governance policy."""

    APPROVER = "approver"
    ADMIN = "admin"


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str
    owner: str
    created_at: int  # milliseconds since the epoch
    updated_at: int
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version
    protected_aliases: tuple[str, ...] = ()
    allow_self_approval: bool = False
    latest_version: int | None = None
    label_revision: int = 0  # bumped by each alias/stage move (optimistic concurrency)


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    source: str  # as registered: runs:/<run_id>/<path> or a URI inside the run's artifacts
    run_id: str | None
    artifact_path: str  # the model's folder inside the run's artifacts
    status: ModelVersionStatus
    created_at: int
    updated_at: int
    created_by: str
    description: str = ""
    status_message: str = ""
    stage: Stage = Stage.NONE
    signature: str = ""  # a one-line summary of the model's signature, if it has one
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class SetAlias:
    alias: str
    version: int


@dataclass(frozen=True)
class RemoveAlias:
    alias: str


@dataclass(frozen=True)
class SetStage:
    version: int
    stage: Stage
    archive_existing: bool = False  # move other versions in ``stage`` to Archived


LabelChange = SetAlias | RemoveAlias | SetStage


@dataclass(frozen=True)
class TransitionRequest:
    """A request to point a (usually protected) alias or stage at a version."""

    id: int
    name: str
    version: int
    target: str  # an alias, or "stage:<Stage>"
    status: RequestStatus
    requested_by: str
    created_at: int
    comment: str = ""
    resolved_by: str | None = None
    resolved_at: int | None = None
    resolution_comment: str = ""


@dataclass(frozen=True)
class AuditEvent:
    """One recorded change (or refused attempt) in the registry. Append-only."""

    id: int
    at: int
    actor: str
    action: str  # e.g. "alias.set", "version.create", "request.approve", "role.grant"
    model: str | None
    version: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str = ""
    outcome: str = "ok"  # "ok", or "refused: <why>" for an attempt that did not apply


@dataclass(frozen=True)
class LineageNode:
    id: str  # "dataset:<name>@<digest>", "run:<id>", "model:<name>/<version>"
    kind: str  # "dataset", "run", "model_version"
    label: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineageEdge:
    source: str  # node ids; edges point downstream: dataset -> run -> model_version
    target: str
    relation: str  # "input_to" (with the context), "produced"


@dataclass(frozen=True)
class LineageGraph:
    root: str
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]

    def node(self, node_id: str) -> LineageNode:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)
