"""The model registry half of ``heron.Client`` (a mixin, to keep each module small)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from heron.client.context import acting_user
from heron.client.http_registry import HttpRegistry
from heron.client.http_transport import HttpTransport
from heron.client.transport import TrackingTransport
from heron.entities import Page
from heron.entities.registry import (
    AuditEvent,
    LineageGraph,
    ModelVersion,
    RegisteredModel,
    RequestStatus,
    Role,
    Stage,
    TransitionRequest,
)
from heron.errors import InvalidArgument
from heron.services import TrackingService
from heron.services.registry import RegistryService
from heron.store import SqlRegistryStore, SqlTrackingStore, ViewType

RegistryTransport = RegistryService | HttpRegistry


def open_registry(transport: TrackingTransport) -> RegistryTransport:
    """The registry next to a tracking transport: same server, or same database."""
    if isinstance(transport, HttpTransport):
        return HttpRegistry(transport)
    if isinstance(transport, TrackingService) and isinstance(transport.store, SqlTrackingStore):
        return RegistryService(SqlRegistryStore(transport.store.engines), transport)
    raise InvalidArgument(f"no model registry is available over {type(transport).__name__}")


class RegistryMethods:
    """Register, find, alias and govern models. Every change is made as ``self.user``."""

    _service: TrackingTransport
    _registry_transport: RegistryTransport | None = None
    user: str | None = None

    @property
    def registry(self) -> RegistryTransport:
        if self._registry_transport is None:
            self._registry_transport = open_registry(self._service)
        return self._registry_transport

    @property
    def _actor(self) -> str:
        return self.user or acting_user()

    # -- registered models -------------------------------------------------------------

    def register_model(
        self,
        model_uri: str,
        name: str,
        *,
        run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> ModelVersion:
        """Register ``runs:/<run_id>/<path>`` as the next version of model ``name``."""
        return self.registry.register_model(
            model_uri, name, self._actor, run_id=run_id, description=description, tags=tags
        )

    def create_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> RegisteredModel:
        return self.registry.create_model(name, self._actor, description=description, tags=tags)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.registry.get_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        return self.registry.search_models(filter_string, order_by, view, max_results, page_token)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.registry.rename_model(name, new_name, self._actor)

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        return self.registry.update_model(name, description, self._actor)

    def delete_registered_model(self, name: str) -> None:
        self.registry.delete_model(name, self._actor)

    def restore_registered_model(self, name: str) -> None:
        self.registry.restore_model(name, self._actor)

    def set_registered_model_tag(self, name: str, key: str, value: object) -> None:
        self.registry.set_model_tag(name, key, value, self._actor)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.registry.delete_model_tag(name, key, self._actor)

    def set_model_policy(
        self,
        name: str,
        *,
        protected_aliases: Sequence[str] | None = None,
        allow_self_approval: bool | None = None,
    ) -> RegisteredModel:
        return self.registry.set_policy(
            name,
            self._actor,
            protected_aliases=protected_aliases,
            allow_self_approval=allow_self_approval,
        )

    # -- versions ----------------------------------------------------------------------

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self.registry.get_version(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        return self.registry.search_versions(filter_string, order_by, view, max_results, page_token)

    def update_model_version(self, name: str, version: int, description: str) -> ModelVersion:
        return self.registry.update_version(name, version, self._actor, description=description)

    def delete_model_version(self, name: str, version: int) -> None:
        self.registry.delete_version(name, version, self._actor)

    def restore_model_version(self, name: str, version: int) -> None:
        self.registry.restore_version(name, version, self._actor)

    def set_model_version_tag(self, name: str, version: int, key: str, value: object) -> None:
        self.registry.set_version_tag(name, version, key, value, self._actor)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        self.registry.delete_version_tag(name, version, key, self._actor)

    def get_model_version_by_uri(self, uri: str) -> ModelVersion:
        """The version ``models:/name/3``, ``models:/name@alias`` or ``models:/name/latest``
        names right now."""
        return self.registry.resolve(uri)

    def resolve_model_uri(self, uri: str) -> str:
        """``runs:/<run_id>/<path>`` of the files behind a ``models:/`` URI."""
        return self.registry.source_uri(uri)

    # -- aliases and stages ------------------------------------------------------------

    def set_alias(
        self, name: str, alias: str, version: int, *, expected_revision: int | None = None
    ) -> RegisteredModel:
        return self.registry.set_alias(
            name, alias, version, self._actor, expected_revision=expected_revision
        )

    def delete_alias(self, name: str, alias: str) -> RegisteredModel:
        return self.registry.delete_alias(name, alias, self._actor)

    def move_aliases(
        self,
        name: str,
        targets: Mapping[str, int | None],
        *,
        expected_revision: int | None = None,
        reason: str = "",
    ) -> RegisteredModel:
        """Move several aliases at once (None removes one): all or nothing."""
        return self.registry.move_aliases(
            name, targets, self._actor, expected_revision=expected_revision, reason=reason
        )

    def transition_stage(
        self, name: str, version: int, stage: str | Stage, *, archive_existing: bool = False
    ) -> ModelVersion:
        return self.registry.transition_stage(
            name, version, stage, self._actor, archive_existing=archive_existing
        )

    # -- governance --------------------------------------------------------------------

    def request_transition(
        self, name: str, version: int, to: str, *, comment: str = ""
    ) -> TransitionRequest:
        return self.registry.request_transition(name, version, to, self._actor, comment=comment)

    def approve(self, name: str, request_id: int, *, comment: str = "") -> TransitionRequest:
        return self.registry.approve(name, request_id, self._actor, comment=comment)

    def reject(self, name: str, request_id: int, *, comment: str = "") -> TransitionRequest:
        return self.registry.reject(name, request_id, self._actor, comment=comment)

    def cancel_request(self, name: str, request_id: int, *, comment: str = "") -> TransitionRequest:
        return self.registry.cancel(name, request_id, self._actor, comment=comment)

    def list_requests(
        self, name: str, status: RequestStatus | str | None = None
    ) -> list[TransitionRequest]:
        return self.registry.list_requests(name, status)

    def model_history(
        self, name: str | None = None, *, after_id: int = 0, limit: int = 1000
    ) -> list[AuditEvent]:
        return self.registry.history(name, after_id, limit)

    def grant_role(self, user: str, role: Role | str) -> None:
        self.registry.grant_role(user, role, self._actor)

    def revoke_role(self, user: str, role: Role | str) -> None:
        self.registry.revoke_role(user, role, self._actor)

    def roles_of(self, user: str) -> set[Role]:
        return self.registry.roles_of(user)

    def lineage(self, target: str) -> LineageGraph:
        """The graph around a model URI, ``runs:/<id>`` or ``dataset:<digest>``."""
        return self.registry.lineage(target)
