"""Experiment search: the search language compiled over the experiments tables.

Experiments number in the thousands, not millions, so pages use an offset: a token then
stays valid for every order the language allows (as in the registry's searches).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from heron.entities import Experiment, Page
from heron.errors import InvalidArgument
from heron.search.ast import And, Comparison, Expr, Literal_, Not, Or, OrderKey
from heron.store.base import ViewType
from heron.store.schema import experiment_tags, experiments
from heron.store.sql_registry_rows import compile_registry_filter, order_clauses
from heron.store.sql_rows import experiment_from_row
from heron.store.sql_search import decode_token, encode_token, query_fingerprint

EXPERIMENT_COLUMNS: dict[str, Any] = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.experiment_id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}


def search_experiments(
    conn: Connection,
    view: ViewType,
    filter_expr: Expr | None,
    order_by: Sequence[OrderKey],
    max_results: int,
    page_token: str | None,
) -> Page[Experiment]:
    """A page of experiments matching ``filter_expr``, in ``order_by`` then id order."""
    fingerprint = query_fingerprint("experiments", view.value, repr(filter_expr), repr(order_by))
    offset = int(decode_token(page_token, fingerprint)[0]) if page_token else 0
    query = select(experiments).where(experiments.c.lifecycle_stage.in_(view.stages()))
    if filter_expr is not None:
        filter_expr = _integer_ids(filter_expr)
        tag_match = experiment_tags.c.experiment_id == experiments.c.experiment_id
        query = query.where(
            compile_registry_filter(filter_expr, EXPERIMENT_COLUMNS, tag_match, experiment_tags)
        )
    order = order_clauses(order_by, EXPERIMENT_COLUMNS, [experiments.c.experiment_id.asc()])
    rows = conn.execute(query.order_by(*order).limit(max_results + 1).offset(offset)).all()
    page = rows[:max_results]
    tags: dict[int, dict[str, str]] = {}
    if page:
        for tag in conn.execute(
            select(experiment_tags).where(
                experiment_tags.c.experiment_id.in_([r.experiment_id for r in page])
            )
        ):
            tags.setdefault(tag.experiment_id, {})[tag.key] = tag.value
    items = [experiment_from_row(r, tags.get(r.experiment_id, {})) for r in page]
    token = encode_token(fingerprint, [offset + max_results]) if len(rows) > max_results else None
    return Page(items, token)


def _integer_ids(expr: Expr) -> Expr:
    """``experiment_id`` values (strings, as clients hold ids) as the integers stored."""
    if isinstance(expr, (And, Or)):
        return type(expr)(tuple(_integer_ids(operand) for operand in expr.operands))
    if isinstance(expr, Not):
        return Not(_integer_ids(expr.operand))
    if expr.left.kind != "attribute" or expr.left.key != "experiment_id":
        return expr
    if expr.op not in ("=", "!=", "IN", "NOT IN"):
        raise InvalidArgument(
            f"experiment_id compares with =, !=, IN or NOT IN, not {expr.op}: ids are names"
        )
    value = expr.value
    ids = tuple(_integer_id(v) for v in value) if isinstance(value, tuple) else _integer_id(value)
    return Comparison(expr.left, expr.op, ids)


def _integer_id(value: Literal_ | None) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise InvalidArgument(f"experiment ids are integers, got {value!r}") from None
