"""The registry over a Heron server's REST API: the same surface as ``RegistryService``.

It rides on an ``HttpTransport`` (its connection pool, retries and error mapping) and
sends who acts in the ``X-Heron-User`` header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from heron.client.http_transport import API, HttpTransport
from heron.entities import Page
from heron.entities import registry_wire as wire
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
from heron.store.base import ViewType

USER_HEADER = "X-Heron-User"


def _seg(value: object) -> str:
    return quote(str(value), safe="")


class HttpRegistry:
    def __init__(self, http: HttpTransport) -> None:
        self._http = http

    def _call(self, method: str, path: str, actor: str | None = None, **kwargs: Any) -> Any:
        headers = {USER_HEADER: actor} if actor else {}
        response = self._http._request(method, API + path, headers=headers, **kwargs)
        return None if response.status_code == 204 else response.json()

    @staticmethod
    def _model(name: str) -> str:
        return f"/registered-models/{_seg(name)}"

    def _version(self, name: str, version: int) -> str:
        return f"{self._model(name)}/versions/{int(version)}"

    # -- registered models -------------------------------------------------------------

    def create_model(
        self,
        name: str,
        actor: str,
        *,
        description: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> RegisteredModel:
        body = {"name": name, "description": description, "tags": _tags(tags)}
        return wire.model_from_dict(self._call("POST", "/registered-models", actor, json=body))

    def get_model(self, name: str) -> RegisteredModel:
        return wire.model_from_dict(self._call("GET", self._model(name)))

    def search_models(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        params = _search_params(filter_string, order_by, view, max_results, page_token)
        data = self._call("GET", "/registered-models", params=params)
        return Page([wire.model_from_dict(m) for m in data["models"]], data["next_page_token"])

    def rename_model(self, name: str, new_name: str, actor: str) -> RegisteredModel:
        data = self._call("PATCH", self._model(name), actor, json={"new_name": new_name})
        return wire.model_from_dict(data)

    def update_model(self, name: str, description: str, actor: str) -> RegisteredModel:
        data = self._call("PATCH", self._model(name), actor, json={"description": description})
        return wire.model_from_dict(data)

    def delete_model(self, name: str, actor: str) -> None:
        self._call("DELETE", self._model(name), actor)

    def restore_model(self, name: str, actor: str) -> None:
        self._call("POST", self._model(name) + "/restore", actor)

    def set_model_tag(self, name: str, key: str, value: object, actor: str) -> None:
        path = f"{self._model(name)}/tags/{_seg(key)}"
        self._call("PUT", path, actor, json={"value": str(value)})

    def delete_model_tag(self, name: str, key: str, actor: str) -> None:
        self._call("DELETE", f"{self._model(name)}/tags/{_seg(key)}", actor)

    def set_policy(
        self,
        name: str,
        actor: str,
        *,
        protected_aliases: Sequence[str] | None = None,
        allow_self_approval: bool | None = None,
    ) -> RegisteredModel:
        body = {
            "protected_aliases": list(protected_aliases) if protected_aliases is not None else None,
            "allow_self_approval": allow_self_approval,
        }
        return wire.model_from_dict(
            self._call("PUT", self._model(name) + "/policy", actor, json=body)
        )

    # -- versions ----------------------------------------------------------------------

    def register_model(
        self,
        source: str,
        name: str,
        actor: str,
        *,
        run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> ModelVersion:
        body = {
            "name": name,
            "source": source,
            "run_id": run_id,
            "description": description,
            "tags": _tags(tags),
        }
        return wire.version_from_dict(self._call("POST", "/model-versions", actor, json=body))

    def get_version(self, name: str, version: int) -> ModelVersion:
        return wire.version_from_dict(self._call("GET", self._version(name, version)))

    def search_versions(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        params = _search_params(filter_string, order_by, view, max_results, page_token)
        data = self._call("GET", "/model-versions", params=params)
        return Page([wire.version_from_dict(v) for v in data["versions"]], data["next_page_token"])

    def update_version(
        self, name: str, version: int, actor: str, *, description: str | None = None
    ) -> ModelVersion:
        body = {"description": description or ""}
        return wire.version_from_dict(
            self._call("PATCH", self._version(name, version), actor, json=body)
        )

    def delete_version(self, name: str, version: int, actor: str) -> None:
        self._call("DELETE", self._version(name, version), actor)

    def restore_version(self, name: str, version: int, actor: str) -> None:
        self._call("POST", self._version(name, version) + "/restore", actor)

    def set_version_tag(self, name: str, version: int, key: str, value: object, actor: str) -> None:
        path = f"{self._version(name, version)}/tags/{_seg(key)}"
        self._call("PUT", path, actor, json={"value": str(value)})

    def delete_version_tag(self, name: str, version: int, key: str, actor: str) -> None:
        self._call("DELETE", f"{self._version(name, version)}/tags/{_seg(key)}", actor)

    # -- URIs, lineage -----------------------------------------------------------------

    def resolve(self, uri: str) -> ModelVersion:
        data = self._call("GET", "/model-versions/resolve", params={"uri": uri})
        return wire.version_from_dict(data["version"])

    def source_uri(self, uri: str) -> str:
        data = self._call("GET", "/model-versions/resolve", params={"uri": uri})
        return str(data["source_uri"])

    def lineage(self, target: str) -> LineageGraph:
        return wire.lineage_from_dict(self._call("GET", "/lineage", params={"target": target}))

    # -- aliases and stages ------------------------------------------------------------

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        actor: str,
        *,
        expected_revision: int | None = None,
        reason: str = "",
    ) -> RegisteredModel:
        body = {"version": version, "expected_revision": expected_revision, "reason": reason}
        path = f"{self._model(name)}/aliases/{_seg(alias)}"
        return wire.model_from_dict(self._call("PUT", path, actor, json=body))

    def delete_alias(
        self, name: str, alias: str, actor: str, *, reason: str = ""
    ) -> RegisteredModel:
        path = f"{self._model(name)}/aliases/{_seg(alias)}"
        return wire.model_from_dict(self._call("DELETE", path, actor))

    def move_aliases(
        self,
        name: str,
        targets: Mapping[str, int | None],
        actor: str,
        *,
        expected_revision: int | None = None,
        reason: str = "",
    ) -> RegisteredModel:
        body = {"aliases": dict(targets), "expected_revision": expected_revision, "reason": reason}
        path = self._model(name) + "/aliases"
        return wire.model_from_dict(self._call("PUT", path, actor, json=body))

    def transition_stage(
        self,
        name: str,
        version: int,
        stage: str | Stage,
        actor: str,
        *,
        archive_existing: bool = False,
        reason: str = "",
    ) -> ModelVersion:
        body = {
            "stage": stage.value if isinstance(stage, Stage) else stage,
            "archive_existing": archive_existing,
            "reason": reason,
        }
        path = self._version(name, version) + "/stage"
        return wire.version_from_dict(self._call("PUT", path, actor, json=body))

    # -- requests, audit, roles --------------------------------------------------------

    def request_transition(
        self, name: str, version: int, to: str, actor: str, *, comment: str = ""
    ) -> TransitionRequest:
        body = {"version": version, "to": to, "comment": comment}
        data = self._call("POST", self._model(name) + "/requests", actor, json=body)
        return wire.request_from_dict(data)

    def _decide(
        self, decision: str, name: str, request_id: int, actor: str, comment: str
    ) -> TransitionRequest:
        path = f"{self._model(name)}/requests/{int(request_id)}/{decision}"
        return wire.request_from_dict(self._call("POST", path, actor, json={"comment": comment}))

    def approve(
        self, name: str, request_id: int, actor: str, *, comment: str = ""
    ) -> TransitionRequest:
        return self._decide("approve", name, request_id, actor, comment)

    def reject(
        self, name: str, request_id: int, actor: str, *, comment: str = ""
    ) -> TransitionRequest:
        return self._decide("reject", name, request_id, actor, comment)

    def cancel(
        self, name: str, request_id: int, actor: str, *, comment: str = ""
    ) -> TransitionRequest:
        return self._decide("cancel", name, request_id, actor, comment)

    def list_requests(
        self, name: str | None = None, status: RequestStatus | str | None = None
    ) -> list[TransitionRequest]:
        if name is None:
            raise InvalidArgument("name the model whose requests to list")
        value = status.value if isinstance(status, RequestStatus) else status
        params = {"status": value} if value else {}
        data = self._call("GET", self._model(name) + "/requests", params=params)
        return [wire.request_from_dict(r) for r in data["requests"]]

    def history(
        self, name: str | None = None, after_id: int = 0, limit: int = 1000
    ) -> list[AuditEvent]:
        path = self._model(name) + "/history" if name is not None else "/registry/history"
        data = self._call("GET", path, params={"after_id": after_id, "limit": limit})
        return [wire.event_from_dict(e) for e in data["events"]]

    def grant_role(self, user: str, role: Role | str, actor: str) -> None:
        value = role.value if isinstance(role, Role) else role
        self._call("PUT", f"/registry/roles/{_seg(user)}/{_seg(value)}", actor)

    def revoke_role(self, user: str, role: Role | str, actor: str) -> None:
        value = role.value if isinstance(role, Role) else role
        self._call("DELETE", f"/registry/roles/{_seg(user)}/{_seg(value)}", actor)

    def roles_of(self, user: str) -> set[Role]:
        data = self._call("GET", f"/registry/roles/{_seg(user)}")
        return {Role(r) for r in data["roles"]}


def _tags(tags: Mapping[str, object] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (tags or {}).items()}


def _search_params(
    filter_string: str | None,
    order_by: Sequence[str] | None,
    view: ViewType,
    max_results: int,
    page_token: str | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"view": ViewType(view).value, "max_results": max_results}
    if filter_string:
        params["filter"] = filter_string
    if order_by:
        params["order_by"] = list(order_by)
    if page_token:
        params["page_token"] = page_token
    return params
