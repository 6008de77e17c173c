"""Request bodies of the REST API (docs/rest-api.md), as pydantic models.

They check shapes and types so /openapi.json documents every body; the business rules
(name lengths, key characters, terminal statuses, ...) stay in TrackingService, so the
embedded client and the server accept exactly the same data.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from heron.entities import RunStatus, wire
from heron.errors import InvalidArgument
from heron.store import ViewType


def _metric_value(value: Any) -> float:
    try:
        return wire.number_from_json(value)
    except InvalidArgument as exc:
        raise ValueError(exc.message) from None


# JSON has no NaN or infinity: the wire format sends them as strings (heron.entities.wire).
MetricValue = Annotated[
    float,
    PlainValidator(_metric_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]},
            ],
            "description": 'a JSON number, or "NaN", "Infinity", "-Infinity"',
        }
    ),
]


class _Body(BaseModel):
    # Numbers become strings where a string is expected (ids, param values), as the wire
    # codecs do with str(); unknown fields are ignored so newer clients work with this server.
    model_config = ConfigDict(coerce_numbers_to_str=True, extra="ignore")


class CreateExperiment(_Body):
    name: str
    artifact_location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class RenameExperiment(_Body):
    name: str


class TagValue(_Body):
    value: str


class CreateRun(_Body):
    experiment_id: str
    run_name: str | None = None
    start_time: int | None = Field(None, description="milliseconds since the epoch")
    user: str = ""
    source: str = ""
    git_commit: str | None = None
    parent_run_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING


class UpdateRun(_Body):
    status: RunStatus | None = None
    end_time: int | None = Field(None, description="milliseconds since the epoch")
    run_name: str | None = None


class EndRun(_Body):
    status: RunStatus = Field(RunStatus.FINISHED, description="FINISHED, FAILED or KILLED")


class MetricPoint(_Body):
    key: str
    value: MetricValue
    timestamp: int = Field(description="milliseconds since the epoch")
    step: int = 0


class KeyValue(_Body):
    key: str
    value: str


class LogBatch(_Body):
    metrics: list[MetricPoint] = Field(default_factory=list)
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class DatasetBody(_Body):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    # "schema" would shadow a BaseModel attribute; the wire name stays "schema".
    dataset_schema: dict[str, Any] = Field(default_factory=dict, alias="schema")
    profile: dict[str, Any] = Field(default_factory=dict)


class RunInputBody(_Body):
    dataset: DatasetBody
    context: str = ""


class LogInputs(_Body):
    inputs: list[RunInputBody]


class SearchRuns(_Body):
    experiment_ids: list[str]
    filter: str | None = Field(None, description="e.g. metrics.loss < 0.5 and params.lr = '0.1'")
    order_by: list[str] | None = Field(None, description='e.g. ["metrics.loss ASC"]')
    view: ViewType = ViewType.ACTIVE_ONLY
    max_results: int = 1000
    page_token: str | None = None
