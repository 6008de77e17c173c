"""Response shapes for /openapi.json only.

Routes build their bodies with heron.entities.wire and return them as ready responses, so
FastAPI documents these models without validating every response against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from heron.entities import LifecycleStage, RunStatus

NumberOnWire = float | Literal["NaN", "Infinity", "-Infinity"]


class ErrorDetail(BaseModel):
    code: str = Field(description="INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, ...")
    message: str
    reason: str | None = Field(None, description="SEARCH_SYNTAX_ERROR only")
    text: str | None = Field(None, description="SEARCH_SYNTAX_ERROR only: the parsed string")
    position: int | None = Field(None, description="SEARCH_SYNTAX_ERROR only: 0-based offset")


class ErrorBody(BaseModel):
    error: ErrorDetail


class ExperimentOut(BaseModel):
    id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    creation_time: int
    last_update_time: int
    tags: dict[str, str]


class ExperimentsPage(BaseModel):
    experiments: list[ExperimentOut]
    next_page_token: str | None


class DatasetOut(BaseModel):
    name: str
    digest: str
    source_type: str
    source: str
    dataset_schema: dict[str, Any] = Field(alias="schema")
    profile: dict[str, Any]


class RunInputOut(BaseModel):
    dataset: DatasetOut
    context: str


class RunOut(BaseModel):
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    user: str
    source: str
    git_commit: str | None
    parent_run_id: str | None
    lifecycle_stage: LifecycleStage
    artifact_uri: str
    params: dict[str, str]
    metrics: dict[str, NumberOnWire] = Field(description="latest value per key")
    tags: dict[str, str]
    inputs: list[RunInputOut]


class RunsPage(BaseModel):
    runs: list[RunOut]
    next_page_token: str | None


class MetricOut(BaseModel):
    key: str
    value: NumberOnWire
    timestamp: int
    step: int


class MetricsPage(BaseModel):
    metrics: list[MetricOut]
    next_page_token: str | None


class FileInfoOut(BaseModel):
    path: str
    is_dir: bool
    size: int | None
    sha256: str | None  # recorded when the file was stored; null for folders


class FileList(BaseModel):
    files: list[FileInfoOut]


class ArtifactsConfig(BaseModel):
    mode: Literal["proxy", "direct"] = Field(
        description="proxy: send artifact bytes through this server; direct: read and write "
        "the run's artifact_uri in the store yourself, then record the files here"
    )


class ArtifactChecksums(BaseModel):
    checksums: dict[str, str] = Field(description="artifact path -> sha256 recorded for it")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    message: str | None = Field(None, description="why not ready")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "invalid argument or search syntax error"},
    404: {"model": ErrorBody, "description": "no such experiment, run or artifact"},
    500: {"model": ErrorBody, "description": "internal error"},
}

# Routes that parse JSON bodies also refuse oversize ones (heron.server.body_limit).
JSON_BODY_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    413: {"model": ErrorBody, "description": "the body is over the server's size limit"},
}
