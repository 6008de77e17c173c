"""Artifact previews for the web UI (heron.services.artifact_previews): the first rows of
a Parquet file as a table, and a model folder's manifest."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from heron.server import response_models as rs
from heron.server.responses import ServiceDep, json_response
from heron.services.artifact_previews import (
    MAX_PREVIEW_ROWS,
    model_manifest,
    parquet_preview,
)

router = APIRouter(prefix="/api/v1", tags=["artifacts"], responses=rs.ERROR_RESPONSES)


class PreviewColumn(BaseModel):
    name: str
    type: str


class TablePreviewOut(BaseModel):
    columns: list[PreviewColumn]
    rows: list[list[Any]]
    total_rows: int
    total_columns: int


class SpecRow(BaseModel):
    name: str
    type: str
    detail: str


class SignatureOut(BaseModel):
    inputs: list[SpecRow]
    outputs: list[SpecRow]
    params: list[SpecRow]


class FlavorOut(BaseModel):
    name: str
    config: Any


class ModelManifestOut(BaseModel):
    format: str
    manifest_path: str
    flavors: list[FlavorOut]
    signature: SignatureOut | None
    environment: dict[str, Any]
    metadata: Any
    created_at: str
    files: int | None
    size: int | None


@router.get(
    "/runs/{run_id}/artifacts/table-preview",
    response_model=TablePreviewOut,
    summary="The first rows of a Parquet artifact, as a table",
)
def table_preview(
    run_id: str,
    service: ServiceDep,
    path: Annotated[str, Query(description="a Parquet file relative to the run's root")],
    rows: Annotated[int, Query(ge=1, le=MAX_PREVIEW_ROWS)] = 100,
) -> Response:
    preview = parquet_preview(service, run_id, path, rows)
    return json_response(
        {
            "columns": preview.columns,
            "rows": preview.rows,
            "total_rows": preview.total_rows,
            "total_columns": preview.total_columns,
        }
    )


@router.get(
    "/runs/{run_id}/artifacts/model-manifest",
    response_model=ModelManifestOut,
    summary="What a model folder's heron-model.yaml or MLmodel declares",
)
def model_manifest_view(
    run_id: str,
    service: ServiceDep,
    path: Annotated[str, Query(description="the model folder relative to the run's root")] = "",
) -> Response:
    return json_response(model_manifest(service, run_id, path))
