"""Run routes of docs/rest-api.md: lifecycle, logging, history and search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from heron.entities import wire
from heron.errors import InvalidArgument
from heron.server import request_models as rq
from heron.server import response_models as rs
from heron.server.body_limit import LimitedBodyRoute
from heron.server.responses import ServiceDep, json_response, no_content
from heron.services.downsample import MIN_POINTS
from heron.services.validation import MAX_RESULTS

router = APIRouter(
    prefix="/api/v1",
    tags=["runs"],
    route_class=LimitedBodyRoute,
    responses=rs.JSON_BODY_ERROR_RESPONSES,
)


@router.post("/runs", status_code=201, response_model=rs.RunOut)
def create_run(body: rq.CreateRun, service: ServiceDep) -> Response:
    run = service.create_run(
        body.experiment_id,
        run_name=body.run_name,
        start_time=body.start_time,
        user=body.user,
        source=body.source,
        git_commit=body.git_commit,
        parent_run_id=body.parent_run_id,
        tags=body.tags,
        status=body.status,
    )
    return json_response(wire.run_to_dict(run), 201)


# Declared before /runs/{run_id}/... only for readability: methods differ, no clash.
@router.post("/runs/search", response_model=rs.RunsPage)
def search_runs(body: rq.SearchRuns, service: ServiceDep) -> Response:
    page = service.search_runs(
        body.experiment_ids,
        filter_string=body.filter,
        order_by=body.order_by,
        view=body.view,
        max_results=body.max_results,
        page_token=body.page_token or None,
    )
    return json_response(
        {"runs": [wire.run_to_dict(r) for r in page.items], "next_page_token": page.next_page_token}
    )


@router.get("/runs/{run_id}", response_model=rs.RunOut)
def get_run(run_id: str, service: ServiceDep) -> Response:
    return json_response(wire.run_to_dict(service.get_run(run_id)))


@router.patch("/runs/{run_id}", response_model=rs.RunOut)
def update_run(run_id: str, body: rq.UpdateRun, service: ServiceDep) -> Response:
    run = service.update_run(
        run_id, status=body.status, end_time=body.end_time, run_name=body.run_name
    )
    return json_response(wire.run_to_dict(run))


@router.post("/runs/{run_id}/end", status_code=204)
def end_run(run_id: str, body: rq.EndRun, service: ServiceDep) -> Response:
    service.end_run(run_id, body.status)
    return no_content()


@router.delete("/runs/{run_id}", status_code=204, summary="Soft-delete")
def delete_run(run_id: str, service: ServiceDep) -> Response:
    service.delete_run(run_id)
    return no_content()


@router.post("/runs/{run_id}/restore", status_code=204)
def restore_run(run_id: str, service: ServiceDep) -> Response:
    service.restore_run(run_id)
    return no_content()


@router.post("/runs/{run_id}/batch", status_code=204, summary="Log metrics, params and tags")
def log_batch(
    run_id: str,
    body: rq.LogBatch,
    service: ServiceDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=64,
            description="Unique per batch; a batch resent with the same key is stored once.",
        ),
    ] = None,
) -> Response:
    metrics, params, tags = body.entities()
    service.log_batch(run_id, metrics, params, tags, request_id=idempotency_key or None)
    return no_content()


@router.delete("/runs/{run_id}/tags/{key:path}", status_code=204)
def delete_tag(run_id: str, key: str, service: ServiceDep) -> Response:
    service.delete_tag(run_id, key)
    return no_content()


@router.get(
    "/runs/{run_id}/metrics/{key:path}/history",
    response_model=rs.MetricsPage,
    summary="A metric's points in step order: paged, or downsampled with max_points",
)
def get_metric_history(
    run_id: str,
    key: str,
    service: ServiceDep,
    max_results: int = 25_000,
    page_token: str | None = None,
    max_points: Annotated[
        int | None,
        Query(
            ge=MIN_POINTS,
            le=MAX_RESULTS,
            description="return the whole series reduced to at most this many points "
            "(min/max per bucket; the first and last points are kept), without paging",
        ),
    ] = None,
) -> Response:
    if max_points is not None:
        if page_token:
            raise InvalidArgument(
                "max_points returns the whole series in one response: drop page_token"
            )
        points = service.get_metric_history_downsampled(run_id, key, max_points)
        return json_response(
            {"metrics": [wire.metric_to_dict(m) for m in points], "next_page_token": None}
        )
    page = service.get_metric_series(
        run_id, key, max_results=max_results, page_token=page_token or None
    )
    return json_response(
        {"metrics": wire.series_to_dicts(page), "next_page_token": page.next_page_token}
    )


@router.post("/runs/{run_id}/inputs", status_code=204, summary="Log datasets used by the run")
def log_inputs(run_id: str, body: rq.LogInputs, service: ServiceDep) -> Response:
    inputs = [wire.run_input_from_dict(i.model_dump(by_alias=True)) for i in body.inputs]
    service.log_inputs(run_id, inputs)
    return no_content()
