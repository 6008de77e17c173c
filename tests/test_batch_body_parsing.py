"""The log-batch body's fast path accepts and refuses exactly what the models do."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ModelWrapValidatorHandler, ValidationError, model_validator

from heron.server import request_models as rq
from heron.server.body_limit import _parse_json


class ModelsOnly(rq.LogBatch):
    """LogBatch with the fast path switched off (same-named validator overrides it)."""

    @model_validator(mode="wrap")
    @classmethod
    def _well_formed_fast(cls, data: Any, handler: ModelWrapValidatorHandler[rq.LogBatch]) -> Any:
        return handler(data)


def _outcome(model: type[rq.LogBatch], body: Any) -> Any:
    try:
        metrics, params, tags = model.model_validate(body).entities()
    except ValidationError as exc:
        return "refused", [(e["loc"], e["type"]) for e in exc.errors()]
    # repr: NaN == NaN is false, and 1 == 1.0 would hide an int that should be a float.
    return repr(metrics), repr(params), repr(tags)


def test_models_only_really_skips_the_fast_path() -> None:
    body = {"metrics": [{"key": "a", "value": 1.0, "timestamp": 1}]}
    assert rq.LogBatch.model_validate(body)._entities is not None
    assert ModelsOnly.model_validate(body)._entities is None


values = st.one_of(
    st.floats(allow_nan=False),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "nan", "5", "", True, None, [1.0]]),
)
integers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([1.0, 2.5, "7", True, None]),
)
texts = st.one_of(
    st.sampled_from(["loss", "a/b", "x\x00y", "\udc00", "é", 5, 2.5, None, ""]),
    st.text(max_size=5),
)
point = st.fixed_dictionaries(
    {"key": texts, "value": values, "timestamp": integers},
    optional={"step": integers, "extra": texts},
)
pair = st.fixed_dictionaries({"key": texts, "value": texts}, optional={"note": texts})
bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "metrics": st.one_of(st.lists(point, max_size=4), st.none()),
            "params": st.lists(pair, max_size=3),
            "tags": st.one_of(st.lists(pair, max_size=3), st.just({"a": "b"})),
            "other": texts,
        },
    ),
    st.sampled_from([[], None, "body", 3]),
)


@settings(max_examples=400, deadline=None)
@given(body=bodies)
def test_fast_path_agrees_with_the_models(body: Any) -> None:
    assert _outcome(rq.LogBatch, body) == _outcome(ModelsOnly, body)


@pytest.mark.parametrize(
    "text",
    [
        b'{"v": 9223372036854775807}',
        b'{"v": -9223372036854775809}',
        b'{"v": 123456789012345678901234567890}',
        b'{"v": 1e400}',
        b'{"v": NaN}',
        b'{"v": "\\udc00"}',
        b'{"v": 0.30000000000000004, "t": 1700000000000}',
        b'\xef\xbb\xbf{"v": 1}',
    ],
)
def test_request_json_parses_like_the_standard_library(text: bytes) -> None:
    try:
        expected: Any = json.loads(text)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            _parse_json(text)
        return
    # repr: an integer read as a float, or NaN, would compare equal or unequal wrongly.
    assert repr(_parse_json(text)) == repr(expected)
