"""Request bodies of the REST API (docs/rest-api.md), as pydantic models.

They check shapes and types so /openapi.json documents every body; the business rules
(name lengths, key characters, terminal statuses, ...) stay in TrackingService, so the
embedded client and the server accept exactly the same data. They also refuse what no
store can hold, which JSON can still carry: NUL characters, lone UTF-16 surrogates and
integers beyond 64 bits. Left to the database driver, those were 500s (found by fuzzing,
tests/test_server_fuzz.py); here they are 400s that name the field.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import orjson
from fastapi import Request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from heron.entities import Metric, Param, RunStatus, RunTag, wire
from heron.errors import InvalidArgument
from heron.store import ViewType


def _metric_value(value: Any) -> float:
    try:
        return wire.number_from_json(value)
    except InvalidArgument as exc:
        raise ValueError(exc.message) from None
    except OverflowError:
        # A JSON integer such as 10**400 written out in full: float() cannot hold it (the
        # number itself stays out of the message: it may have thousands of digits).
        raise ValueError(
            "metric value is an integer beyond the range of a 64-bit float (about 1.8e308); "
            'send "Infinity" or "-Infinity" for an unbounded value'
        ) from None


# Every integer is stored in a 64-bit column: refuse larger ones here with a 400 (and say
# so in the spec) instead of letting the database overflow into a 500.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _int64(description: str | None = None) -> Any:
    return Field(ge=INT64_MIN, le=INT64_MAX, description=description)


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


def _unstorable_text(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None. Both databases store UTF-8 text: PostgreSQL
    refuses NUL outright, and a lone surrogate (JSON allows ``"\\udc00"``) is no UTF-8."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone UTF-16 surrogate, which is not valid Unicode text"
    return None


def _find_unstorable_text(data: Any) -> str | None:
    """The first string in decoded JSON that cannot be stored, described with its place
    (e.g. ``field 'tags.a\\x00'``); iterative, so no nesting depth can overflow the stack."""
    pending: list[tuple[Any, str]] = [(data, "")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, str):
            problem = _unstorable_text(value)
            if problem:
                return f"field {where!r} {problem}" if where else f"the body {problem}"
        elif isinstance(value, dict):
            for key, item in value.items():
                place = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and (problem := _unstorable_text(key)):
                    owner = f"of field {where!r}" if where else "at the top level"
                    return f"a key {owner} {problem}"
                pending.append((item, place))
        elif isinstance(value, list):
            pending.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
    return None


async def refuse_unstorable_url_text(request: Request) -> None:
    """A dependency of every route: path and query parameters must be storable text.

    URL decoding turns invalid UTF-8 into U+FFFD, so only NUL (``%00``) can get through;
    PostgreSQL refuses it in text, which made e.g. ``GET /api/v1/runs/%00`` a 500."""
    params = [("path", request.path_params.items()), ("query", request.query_params.multi_items())]
    for where, items in params:
        for name, value in items:
            if isinstance(value, str) and "\x00" in value:
                raise InvalidArgument(
                    f"{where} parameter {name!r} contains a NUL character (%00), "
                    "which is not allowed in Heron's text"
                )


class _Body(BaseModel):
    # Numbers become strings where a string is expected (ids, param values), as the wire
    # codecs do with str(); unknown fields are ignored so newer clients work with this server.
    model_config = ConfigDict(coerce_numbers_to_str=True, extra="ignore")


class _RequestBody(_Body):
    """A whole request body: its text must be storable, checked once for all nested parts."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_unstorable_text(cls, data: Any) -> Any:
        # orjson (C) serializes a 10,000-point batch in about 1 ms and fails on lone
        # surrogates; only a body that fails it, or holds a NUL escape, gets the slower
        # walk that finds and names the bad string. A failure for another reason (say an
        # integer beyond 64 bits) finds nothing here and is left to the field validators.
        try:
            suspicious = b"\\u0000" in orjson.dumps(data)
        except orjson.JSONEncodeError:
            suspicious = True
        if suspicious and (problem := _find_unstorable_text(data)):
            raise ValueError(problem)
        return data


class CreateExperiment(_RequestBody):
    name: str
    artifact_location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class RenameExperiment(_RequestBody):
    name: str


class TagValue(_RequestBody):
    value: str


class CreateRun(_RequestBody):
    experiment_id: str
    run_name: str | None = None
    start_time: Annotated[int | None, _int64("milliseconds since the epoch")] = None
    user: str = ""
    source: str = ""
    git_commit: str | None = None
    parent_run_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING


class UpdateRun(_RequestBody):
    status: RunStatus | None = None
    end_time: Annotated[int | None, _int64("milliseconds since the epoch")] = None
    run_name: str | None = None


class EndRun(_RequestBody):
    status: RunStatus = Field(RunStatus.FINISHED, description="FINISHED, FAILED or KILLED")


class MetricPoint(_Body):
    key: str
    value: MetricValue
    timestamp: Annotated[int, _int64("milliseconds since the epoch")]
    step: Annotated[int, _int64()] = 0


class KeyValue(_Body):
    key: str
    value: str


BatchEntities = tuple[list[Metric], list[Param], list[RunTag]]


class LogBatch(_RequestBody):
    metrics: list[MetricPoint] = Field(default_factory=list)
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)
    _entities: BatchEntities | None = PrivateAttr(None)

    @model_validator(mode="wrap")
    @classmethod
    def _well_formed_fast(cls, data: Any, handler: ModelWrapValidatorHandler[LogBatch]) -> Any:
        # A well-formed batch becomes entities at once, without the models: validating
        # 1,000 points through them and then building the entities took 7.5 ms, this
        # 2.8 ms (one busy machine). Anything unusual goes through the models as before,
        # so what is accepted and how errors read are unchanged (tested property-based).
        entities = batch_entities_fast(data)
        if entities is None:
            return handler(data)
        # Fields given: model_construct would otherwise inspect each default_factory's
        # signature, which cost more than building the entities.
        batch = cls.model_construct(metrics=[], params=[], tags=[])
        batch._entities = entities
        return batch

    def entities(self) -> BatchEntities:
        if self._entities is not None:
            return self._entities
        return (
            [Metric(m.key, m.value, m.timestamp, m.step) for m in self.metrics],
            [Param(p.key, p.value) for p in self.params],
            [RunTag(t.key, t.value) for t in self.tags],
        )


_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_BATCH_FIELDS = frozenset(("metrics", "params", "tags"))
_POINT_FIELDS = frozenset(("key", "value", "timestamp", "step"))
_PAIR_FIELDS = frozenset(("key", "value"))


def batch_entities_fast(data: Any) -> BatchEntities | None:
    """The entities of a batch made only of the usual types, or None.

    Exact type tests (the models also accept e.g. "5" for a step) and the same limits
    as the models: 64-bit integers, storable text.
    """
    # Unknown fields go the slow way: the models ignore them, but only after checking
    # that their text is storable.
    if type(data) is not dict or not data.keys() <= _BATCH_FIELDS:
        return None
    metrics, params, tags = data.get("metrics", []), data.get("params", []), data.get("tags", [])
    if type(metrics) is not list or type(params) is not list or type(tags) is not list:
        return None
    plain: set[str] = set()  # keys known to be storable text
    points = []
    for point in metrics:
        if type(point) is not dict or not point.keys() <= _POINT_FIELDS:
            return None
        key, value = point.get("key"), point.get("value")
        timestamp, step = point.get("timestamp"), point.get("step", 0)
        if type(key) is not str or type(timestamp) is not int or type(step) is not int:
            return None
        if type(value) is not float:
            if type(value) is str and value in _NON_FINITE:
                value = _NON_FINITE[value]
            elif type(value) is int and -(2**63) <= value < 2**63:
                value = float(value)
            else:
                return None
        if not (INT64_MIN <= timestamp <= INT64_MAX and INT64_MIN <= step <= INT64_MAX):
            return None
        if key not in plain:
            if _unstorable_text(key) is not None:
                return None
            plain.add(key)
        points.append(Metric(key, value, timestamp, step))
    pairs: list[list[tuple[str, str]]] = [[], []]
    for items, out in ((params, pairs[0]), (tags, pairs[1])):
        for item in items:
            if type(item) is not dict or not item.keys() <= _PAIR_FIELDS:
                return None
            key, value = item.get("key"), item.get("value")
            if type(key) is not str or type(value) is not str:
                return None
            if _unstorable_text(key) is not None or _unstorable_text(value) is not None:
                return None
            out.append((key, value))
    return (
        points,
        [Param(key, value) for key, value in pairs[0]],
        [RunTag(key, value) for key, value in pairs[1]],
    )


class DatasetBody(_Body):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    # "schema" would shadow a BaseModel attribute; the wire name stays "schema".
    dataset_schema: dict[str, Any] = Field(default_factory=dict, alias="schema")
    profile: dict[str, Any] = Field(default_factory=dict)

    @field_validator("dataset_schema", "profile")
    @classmethod
    def _storable_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        # The store keeps these as JSON text written by orjson, which has limits JSON
        # parsing does not: integers within 64 bits, nesting under 255 levels.
        try:
            orjson.dumps(value)
        except orjson.JSONEncodeError as exc:
            raise ValueError(f"cannot be stored as JSON: {exc}") from None
        return value


class RunInputBody(_Body):
    dataset: DatasetBody
    context: str = ""


class LogInputs(_RequestBody):
    inputs: list[RunInputBody]


class SearchRuns(_RequestBody):
    experiment_ids: list[str]
    filter: str | None = Field(None, description="e.g. metrics.loss < 0.5 and params.lr = '0.1'")
    order_by: list[str] | None = Field(None, description='e.g. ["metrics.loss ASC"]')
    view: ViewType = ViewType.ACTIVE_ONLY
    max_results: Annotated[int, _int64()] = 1000
    page_token: str | None = None


class ArtifactRecord(_Body):
    path: str = Field(description="a file path relative to the run's root")
    size: Annotated[int, _int64("bytes")]
    sha256: str = Field(description="hex digest of the file's bytes")


class RecordArtifacts(_RequestBody):
    files: list[ArtifactRecord]
