"""Searching logged models: MLflow's filter language, evaluated on an experiment's models.

An experiment holds tens to thousands of logged models (one per training run or
checkpoint), not millions of rows like metrics, so the models of the experiments asked
for are loaded and filtered here rather than compiled to SQL. Filters are parsed by
Heron's search parser, so errors point at the offending token as for runs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from heron.entities import Page
from heron.entities.logged_model import LoggedModel
from heron.errors import InvalidArgument
from heron.search.ast import And, Comparison, Expr, Identifier, Literal_, Not, Or, Vocabulary
from heron.search.parser import parse_filter

LOGGED_MODELS = Vocabulary(
    "logged model",
    {
        "name": "string",
        "model_id": "string",
        "model_type": "string",
        "status": "string",
        "source_run_id": "string",
        "experiment_id": "string",
        "created_time": "number",
        "updated_time": "number",
    },
    {
        "creation_timestamp": "created_time",
        "creation_time": "created_time",
        "last_updated_timestamp": "updated_time",
        "run_id": "source_run_id",
    },
    # Heron keeps no per-model metrics yet: a metrics.* filter is refused, not ignored.
    frozenset({"attribute", "param", "tag"}),
)

# MLflow spells statuses LOGGED_MODEL_READY; Heron's values are the suffix.
_STATUS_PREFIX = "LOGGED_MODEL_"


@dataclass(frozen=True)
class SortKey:
    field: str  # an attribute of LOGGED_MODELS (or an alias of one)
    ascending: bool = True


def search_logged_models(
    models: Sequence[LoggedModel],
    filter_string: str | None,
    order_by: Sequence[SortKey],
    max_results: int,
    page_token: str | None,
) -> Page[LoggedModel]:
    """One page of ``models`` (newest first unless ordered otherwise) matching the filter."""
    expr = parse_filter(filter_string, LOGGED_MODELS)
    matching = [m for m in models if expr is None or _matches(expr, m)]
    for key in reversed(order_by):  # stable sorts, last key first
        getter = _attribute(key.field)

        def sort_key(
            model: LoggedModel, get: Callable[[LoggedModel], Literal_ | None] = getter
        ) -> tuple[int, Literal_]:
            return _sortable(get(model))

        matching.sort(key=sort_key, reverse=not key.ascending)
    fingerprint = _fingerprint(filter_string, order_by)
    offset = _offset(page_token, fingerprint) if page_token else 0
    page = matching[offset : offset + max_results]
    after = offset + len(page)
    token = _token(after, fingerprint) if after < len(matching) else None
    return Page(page, token)


def _attribute(name: str) -> Callable[[LoggedModel], Literal_ | None]:
    canonical = LOGGED_MODELS.aliases.get(name, name)
    getters: dict[str, Callable[[LoggedModel], Literal_ | None]] = {
        "name": lambda m: m.name,
        "model_id": lambda m: m.id,
        "model_type": lambda m: m.model_type,
        "status": lambda m: m.status.value,
        "source_run_id": lambda m: m.source_run_id,
        "experiment_id": lambda m: m.experiment_id,
        "created_time": lambda m: m.created_at,
        "updated_time": lambda m: m.updated_at,
    }
    if canonical not in getters:
        known = ", ".join(sorted(getters))
        raise InvalidArgument(f"cannot order logged models by {name!r}: use one of {known}")
    return getters[canonical]


def _sortable(value: Literal_ | None) -> tuple[int, Literal_]:
    return (1, "") if value is None else (0, value)


def _value(identifier: Identifier, model: LoggedModel) -> Literal_ | None:
    if identifier.kind == "tag":
        return model.tags.get(identifier.key)
    if identifier.kind == "param":
        return model.params.get(identifier.key)
    return _attribute(identifier.key)(model)


def _matches(expr: Expr, model: LoggedModel) -> bool:
    if isinstance(expr, And):
        return all(_matches(e, model) for e in expr.operands)
    if isinstance(expr, Or):
        return any(_matches(e, model) for e in expr.operands)
    if isinstance(expr, Not):
        return not _matches(expr.operand, model)
    return _compare(expr, _value(expr.left, model))


def _compare(comparison: Comparison, actual: Literal_ | None) -> bool:
    op, expected = comparison.op, comparison.value
    if op == "IS NULL":
        return actual is None
    if op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        return False
    if comparison.left.key == "status" and isinstance(expected, str):
        expected = expected.upper().removeprefix(_STATUS_PREFIX)
    if op in ("IN", "NOT IN"):
        assert isinstance(expected, tuple)
        return (actual in expected) == (op == "IN")
    if op in ("LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"):
        found = _like(str(expected), str(actual), insensitive="ILIKE" in op)
        return found != op.startswith("NOT")
    assert expected is not None
    assert not isinstance(expected, tuple)
    if isinstance(actual, str) != isinstance(expected, str):
        actual, expected = str(actual), str(expected)
    comparisons: dict[str, Callable[[Literal_, Literal_], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,  # type: ignore[operator]
        "<=": lambda a, b: a <= b,  # type: ignore[operator]
        ">": lambda a, b: a > b,  # type: ignore[operator]
        ">=": lambda a, b: a >= b,  # type: ignore[operator]
    }
    return comparisons[op](actual, expected)


def _like(pattern: str, text: str, *, insensitive: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if insensitive else 0)
    return re.fullmatch(regex, text, flags) is not None


def _fingerprint(filter_string: str | None, order_by: Sequence[SortKey]) -> str:
    parts = [filter_string or "", [(k.field, k.ascending) for k in order_by]]
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:16]


def _token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"q": fingerprint, "o": offset})).decode()


def _offset(token: str, fingerprint: str) -> int:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        offset, query = payload["o"], payload["q"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(
            "invalid page_token: pass back the next_page_token of the previous page unchanged"
        ) from exc
    if query != fingerprint or not isinstance(offset, int) or offset < 0:
        raise InvalidArgument(
            "page_token belongs to a different query: keep the same filter and order when "
            "asking for the next page"
        )
    return offset
