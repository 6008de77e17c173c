"""What the registry service needs from a metadata store.

Every mutating call takes a ``Change`` (who, when, why) and appends its audit events in
the same transaction as the change itself, so the audit log can neither miss a change
nor record one that was rolled back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from heron.entities import Dataset, LifecycleStage, Page
from heron.entities.registry import (
    AuditEvent,
    LabelChange,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RequestStatus,
    Role,
    TransitionRequest,
)
from heron.search.ast import Expr, OrderKey
from heron.store.base import ViewType


@dataclass(frozen=True)
class Change:
    actor: str
    now: int  # milliseconds since the epoch
    reason: str = ""


@dataclass(frozen=True)
class NewVersion:
    source: str
    run_id: str | None
    artifact_path: str
    status: ModelVersionStatus
    description: str = ""
    signature: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunDataset:
    run_id: str
    dataset: Dataset
    context: str


class RegistryStore(ABC):
    # -- registered models -------------------------------------------------------------

    @abstractmethod
    def create_model(
        self, name: str, description: str, tags: dict[str, str], change: Change
    ) -> RegisteredModel: ...

    @abstractmethod
    def get_model(self, name: str) -> RegisteredModel:
        """The model called ``name``, deleted or not; NotFound otherwise."""

    @abstractmethod
    def update_model(
        self,
        name: str,
        change: Change,
        *,
        new_name: str | None = None,
        description: str | None = None,
        lifecycle: LifecycleStage | None = None,
        protected_aliases: Sequence[str] | None = None,
        allow_self_approval: bool | None = None,
    ) -> RegisteredModel: ...

    @abstractmethod
    def set_model_tag(self, name: str, key: str, value: str | None, change: Change) -> None:
        """Set a tag, or delete it when ``value`` is None."""

    @abstractmethod
    def search_models(
        self,
        filter_expr: Expr | None,
        order_by: Sequence[OrderKey],
        view: ViewType,
        max_results: int,
        page_token: str | None,
    ) -> Page[RegisteredModel]: ...

    # -- versions ----------------------------------------------------------------------

    @abstractmethod
    def create_version(self, name: str, new: NewVersion, change: Change) -> ModelVersion:
        """Add the next version of model ``name`` (numbers start at 1, never reused)."""

    @abstractmethod
    def get_version(self, name: str, version: int) -> ModelVersion: ...

    @abstractmethod
    def find_active_version(
        self, name: str, *, alias: str | None = None, version: int | None = None
    ) -> ModelVersion | None:
        """The version that ``alias``, ``version`` or (with neither) the latest names, when
        the model is active (and a numbered or latest version too); None otherwise, and
        the caller finds out why."""

    @abstractmethod
    def update_version(
        self,
        name: str,
        version: int,
        change: Change,
        *,
        description: str | None = None,
        status: ModelVersionStatus | None = None,
        status_message: str | None = None,
        lifecycle: LifecycleStage | None = None,
    ) -> ModelVersion: ...

    @abstractmethod
    def set_version_tag(
        self, name: str, version: int, key: str, value: str | None, change: Change
    ) -> None: ...

    @abstractmethod
    def search_versions(
        self,
        filter_expr: Expr | None,
        order_by: Sequence[OrderKey],
        view: ViewType,
        max_results: int,
        page_token: str | None,
    ) -> Page[ModelVersion]: ...

    # -- aliases and stages ------------------------------------------------------------

    @abstractmethod
    def move_labels(
        self,
        name: str,
        moves: Sequence[LabelChange],
        change: Change,
        expected_revision: int | None = None,
    ) -> RegisteredModel:
        """Apply all ``moves`` in one transaction, or none of them.

        With ``expected_revision``, fail with Conflict if another move happened since
        the caller read the model (its ``label_revision``).
        """

    # -- transition requests -----------------------------------------------------------

    @abstractmethod
    def create_request(
        self, name: str, version: int, target: str, comment: str, change: Change
    ) -> TransitionRequest: ...

    @abstractmethod
    def get_request(self, request_id: int) -> TransitionRequest: ...

    @abstractmethod
    def list_requests(
        self, name: str | None, status: RequestStatus | None
    ) -> list[TransitionRequest]: ...

    @abstractmethod
    def resolve_request(
        self,
        request_id: int,
        status: RequestStatus,
        comment: str,
        change: Change,
        moves: Sequence[LabelChange] = (),
    ) -> TransitionRequest:
        """Close an OPEN request and apply ``moves`` with it, atomically.

        Conflict if the request is no longer open (someone else resolved it first).
        """

    # -- audit -------------------------------------------------------------------------

    @abstractmethod
    def record_refusal(
        self,
        action: str,
        model: str | None,
        version: int | None,
        attempted: Mapping[str, object],
        why: str,
        change: Change,
    ) -> None:
        """Append an audit event for an attempt that was refused (and changed nothing)."""

    @abstractmethod
    def audit_events(
        self, name: str | None, after_id: int = 0, limit: int = 1000
    ) -> list[AuditEvent]:
        """Events in order, for one model (under any of its names) or for everything."""

    # -- roles -------------------------------------------------------------------------

    @abstractmethod
    def set_role(self, user: str, role: Role, granted: bool, change: Change) -> None: ...

    @abstractmethod
    def roles_of(self, user: str) -> set[Role]: ...

    @abstractmethod
    def has_admin(self) -> bool: ...

    # -- lineage -----------------------------------------------------------------------

    @abstractmethod
    def datasets_of_runs(self, run_ids: Sequence[str]) -> list[RunDataset]: ...

    @abstractmethod
    def runs_with_dataset(self, digest: str, name: str | None = None) -> list[RunDataset]: ...

    @abstractmethod
    def versions_of_runs(self, run_ids: Sequence[str]) -> list[ModelVersion]: ...
