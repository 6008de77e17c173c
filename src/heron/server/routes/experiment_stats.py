"""Run counts and last activity of experiments, for lists of experiments (the web UI's
front page) that would otherwise search each experiment's runs one by one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from heron.server import response_models as rs
from heron.server.responses import ServiceDep, json_response

router = APIRouter(prefix="/api/v1", tags=["experiments"], responses=rs.ERROR_RESPONSES)


class ExperimentStatsOut(BaseModel):
    experiment_id: str
    active_runs: int
    deleted_runs: int
    last_activity: int


class ExperimentStatsList(BaseModel):
    stats: list[ExperimentStatsOut]


@router.get(
    "/experiment-stats",
    response_model=ExperimentStatsList,
    summary="Run counts and last activity of several experiments",
)
def experiment_stats(
    service: ServiceDep,
    experiment_ids: Annotated[
        list[str],
        Query(
            alias="experiment_id",
            description="repeat for each experiment (up to 1,000); unknown ids are left out",
        ),
    ],
) -> Response:
    stats = service.experiment_stats(experiment_ids)
    return json_response(
        {
            "stats": [
                {
                    "experiment_id": s.experiment_id,
                    "active_runs": s.active_runs,
                    "deleted_runs": s.deleted_runs,
                    "last_activity": s.last_activity,
                }
                for s in stats
            ]
        }
    )
