"""Experiment routes of docs/rest-api.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from heron.entities import wire
from heron.errors import InvalidArgument
from heron.server import request_models as rq
from heron.server import response_models as rs
from heron.server.body_limit import LimitedBodyRoute
from heron.server.responses import ServiceDep, json_response, no_content
from heron.store import ViewType

router = APIRouter(
    prefix="/api/v1",
    tags=["experiments"],
    route_class=LimitedBodyRoute,
    responses=rs.JSON_BODY_ERROR_RESPONSES,
)


@router.post(
    "/experiments",
    status_code=201,
    response_model=rs.ExperimentOut,
    responses={409: {"model": rs.ErrorBody, "description": "the name is taken"}},
)
def create_experiment(body: rq.CreateExperiment, service: ServiceDep, request: Request) -> Response:
    root = request.app.state.heron.settings.default_artifact_root
    location = body.artifact_location
    if location is not None and not _within(location, root):
        # The server writes artifacts with its own rights: a client must not be able to
        # point that at arbitrary places (e.g. "/etc" or the server's working directory).
        raise InvalidArgument(
            f"artifact_location must be inside this server's artifact root {root!r}; "
            "omit it to let the server choose"
        )
    experiment = service.create_experiment(body.name, artifact_location=location, tags=body.tags)
    return json_response(wire.experiment_to_dict(experiment), 201)


@router.get("/experiments", response_model=rs.ExperimentsPage)
def search_experiments(
    service: ServiceDep,
    view: ViewType = ViewType.ACTIVE_ONLY,
    name_like: Annotated[str | None, Query(description="SQL LIKE pattern, e.g. %mnist%")] = None,
    max_results: int = 1000,
    page_token: str | None = None,
) -> Response:
    page = service.search_experiments(
        view=view,
        name_like=name_like or None,  # "?name_like=" means no filter
        max_results=max_results,
        page_token=page_token or None,
    )
    return json_response(
        {
            "experiments": [wire.experiment_to_dict(e) for e in page.items],
            "next_page_token": page.next_page_token,
        }
    )


@router.get("/experiments/{experiment_id}", response_model=rs.ExperimentOut)
def get_experiment(experiment_id: str, service: ServiceDep) -> Response:
    return json_response(wire.experiment_to_dict(service.get_experiment(experiment_id)))


# {name:path}: a name may hold '/', which arrives decoded even when sent as %2F.
@router.get("/experiments-by-name/{name:path}", response_model=rs.ExperimentOut)
def get_experiment_by_name(name: str, service: ServiceDep) -> Response:
    return json_response(wire.experiment_to_dict(service.get_experiment_by_name(name)))


@router.patch(
    "/experiments/{experiment_id}",
    response_model=rs.ExperimentOut,
    responses={409: {"model": rs.ErrorBody, "description": "the new name is taken"}},
)
def rename_experiment(
    experiment_id: str, body: rq.RenameExperiment, service: ServiceDep
) -> Response:
    service.rename_experiment(experiment_id, body.name)
    return json_response(wire.experiment_to_dict(service.get_experiment(experiment_id)))


@router.delete("/experiments/{experiment_id}", status_code=204, summary="Soft-delete")
def delete_experiment(experiment_id: str, service: ServiceDep) -> Response:
    service.delete_experiment(experiment_id)
    return no_content()


@router.post("/experiments/{experiment_id}/restore", status_code=204)
def restore_experiment(experiment_id: str, service: ServiceDep) -> Response:
    service.restore_experiment(experiment_id)
    return no_content()


@router.put("/experiments/{experiment_id}/tags/{key:path}", status_code=204)
def set_experiment_tag(
    experiment_id: str, key: str, body: rq.TagValue, service: ServiceDep
) -> Response:
    service.set_experiment_tag(experiment_id, key, body.value)
    return no_content()


def _within(location: str, root: str) -> bool:
    prefix = root.rstrip("/") + "/"
    parts = location[len(prefix) :].split("/") if location.startswith(prefix) else [".."]
    return all(part not in ("", ".", "..") for part in parts)
