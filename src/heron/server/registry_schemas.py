"""Request and response bodies of the registry routes (docs/rest-api.md, "Model registry")."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from heron.server.request_models import INT64_MAX, _RequestBody
from heron.server.response_models import JSON_BODY_ERROR_RESPONSES, ErrorBody

# Registry changes can be refused by governance (403) or lose a race or a name (409).
REGISTRY_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **JSON_BODY_ERROR_RESPONSES,
    403: {"model": ErrorBody, "description": "refused by the model's policy or the user's roles"},
    409: {"model": ErrorBody, "description": "the name is taken, or the state moved on"},
}

Version = Field(ge=1, le=2**31 - 1, description="a version number, from 1")


# -- requests ---------------------------------------------------------------------------


class CreateModel(_RequestBody):
    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class UpdateModel(_RequestBody):
    new_name: str | None = Field(default=None, description="rename the model")
    description: str | None = None


class TagBody(_RequestBody):
    value: str


class Policy(_RequestBody):
    protected_aliases: list[str] | None = Field(
        default=None, description="aliases (or stage names) that move only through requests"
    )
    allow_self_approval: bool | None = None


class RegisterVersion(_RequestBody):
    name: str
    source: str = Field(description="runs:/<run_id>/<path>, or a URI inside the run's artifacts")
    run_id: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class UpdateVersion(_RequestBody):
    description: str


class StageBody(_RequestBody):
    stage: str = Field(description="None, Staging, Production or Archived")
    archive_existing: bool = False
    reason: str = ""


class AliasBody(_RequestBody):
    version: int = Version
    expected_revision: int | None = Field(default=None, ge=0, le=INT64_MAX)
    reason: str = ""


class AliasesBody(_RequestBody):
    aliases: dict[str, int | None] = Field(
        description="alias -> version (null removes the alias); applied all or nothing"
    )
    expected_revision: int | None = Field(default=None, ge=0, le=INT64_MAX)
    reason: str = ""


class TransitionBody(_RequestBody):
    version: int = Version
    to: str = Field(description="an alias, or a stage name (Staging, Production, ...)")
    comment: str = ""


class CommentBody(_RequestBody):
    comment: str = ""


# -- responses --------------------------------------------------------------------------


class ModelOut(BaseModel):
    name: str
    description: str
    owner: str
    created_at: int
    updated_at: int
    lifecycle_stage: str
    tags: dict[str, str]
    aliases: dict[str, int]
    protected_aliases: list[str]
    allow_self_approval: bool
    latest_version: int | None
    label_revision: int


class ModelsPage(BaseModel):
    models: list[ModelOut]
    next_page_token: str | None = None


class VersionOut(BaseModel):
    name: str
    version: int
    source: str
    run_id: str | None
    artifact_path: str
    status: str
    status_message: str
    description: str
    stage: str
    signature: str
    created_by: str
    created_at: int
    updated_at: int
    lifecycle_stage: str
    tags: dict[str, str]
    aliases: list[str]


class VersionsPage(BaseModel):
    versions: list[VersionOut]
    next_page_token: str | None = None


class ResolvedOut(BaseModel):
    version: VersionOut
    source_uri: str = Field(description="runs:/<run_id>/<path> of the version's files")


class RequestOut(BaseModel):
    id: int
    name: str
    version: int
    target: str
    status: str
    requested_by: str
    created_at: int
    comment: str
    resolved_by: str | None
    resolved_at: int | None
    resolution_comment: str


class RequestList(BaseModel):
    requests: list[RequestOut]


class EventOut(BaseModel):
    id: int
    at: int
    actor: str
    action: str
    model: str | None
    version: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    outcome: str


class EventList(BaseModel):
    events: list[EventOut]


class RolesOut(BaseModel):
    user: str
    roles: list[str]


class LineageNodeOut(BaseModel):
    id: str
    kind: str
    label: str
    attributes: dict[str, Any]


class LineageEdgeOut(BaseModel):
    source: str
    target: str
    relation: str


class LineageOut(BaseModel):
    root: str
    nodes: list[LineageNodeOut]
    edges: list[LineageEdgeOut]
