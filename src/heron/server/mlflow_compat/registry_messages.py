"""Request bodies of MLflow's model registry API (``model_registry.proto``) and of its
logged models (``service.proto``). Shapes and types only; the rules stay in the services."""

from __future__ import annotations

from pydantic import Field

from heron.errors import InvalidArgument
from heron.server.mlflow_compat.messages import Int64, KeyValue
from heron.server.request_models import _Body, _RequestBody


def version_number(text: str) -> int:
    """MLflow sends version numbers as strings."""
    try:
        number = int(text)
    except ValueError:
        raise InvalidArgument(f"version must be a positive integer, got {text!r}") from None
    if number < 1:
        raise InvalidArgument(f"version must be a positive integer, got {text!r}")
    return number


class ModelName(_RequestBody):
    name: str


class CreateRegisteredModel(_RequestBody):
    name: str
    tags: list[KeyValue] = Field(default_factory=list)
    description: str | None = None


class RenameRegisteredModel(_RequestBody):
    name: str
    new_name: str


class UpdateRegisteredModel(_RequestBody):
    name: str
    description: str | None = None


class RegisteredModelTag(_RequestBody):
    name: str
    key: str
    value: str = ""


class DeleteRegisteredModelTag(_RequestBody):
    name: str
    key: str


class GetLatestVersions(_RequestBody):
    name: str
    stages: list[str] = Field(default_factory=list)


class SearchRegistry(_RequestBody):
    """The query of ``registered-models/search`` and ``model-versions/search``."""

    filter: str | None = None
    max_results: Int64 | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


class SetAlias(_RequestBody):
    name: str
    alias: str
    version: str


class DeleteAlias(_RequestBody):
    name: str
    alias: str


class CreateModelVersion(_RequestBody):
    name: str
    source: str
    run_id: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)
    run_link: str | None = None
    description: str | None = None
    model_id: str | None = None


class VersionRef(_RequestBody):
    name: str
    version: str


class UpdateModelVersion(VersionRef):
    description: str | None = None


class ModelVersionTag(VersionRef):
    key: str
    value: str = ""


class DeleteModelVersionTag(VersionRef):
    key: str


class TransitionStage(VersionRef):
    stage: str
    archive_existing_versions: bool = False


# -- logged models ---------------------------------------------------------------------


class CreateLoggedModel(_RequestBody):
    experiment_id: str
    name: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class FinalizeLoggedModel(_RequestBody):
    model_id: str | None = None
    status: str


class LoggedModelTags(_RequestBody):
    tags: list[KeyValue] = Field(default_factory=list)


class LoggedModelParams(_RequestBody):
    params: list[KeyValue] = Field(default_factory=list)


class OrderBy(_Body):
    field_name: str
    ascending: bool = True


class SearchLoggedModels(_RequestBody):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = None
    max_results: Int64 | None = None
    order_by: list[OrderBy] = Field(default_factory=list)
    page_token: str | None = None


class ModelOutputBody(_Body):
    model_id: str
    step: Int64 = 0


class LogOutputs(_RequestBody):
    run_id: str
    models: list[ModelOutputBody] = Field(default_factory=list)
