"""MLflow filter strings and order-by clauses, read with MLflow's meaning.

Heron's search language is a superset of MLflow's, so a clause passes through unchanged
except where it names a reserved tag that Heron keeps as a run field (see ``wire``):
``tags.mlflow.runName`` becomes ``attributes.run_name`` and so on. Such a clause is parsed,
rewritten and printed back in Heron's syntax; the service parses it again as usual.
"""

from __future__ import annotations

from collections.abc import Sequence

from heron.search import And, Comparison, Expr, Identifier, Not, Or
from heron.search import parse_filter as parse_heron_filter
from heron.search import parse_order_by as parse_heron_order_by
from heron.search.ast import Literal_
from heron.server.mlflow_compat.wire import PARENT_RUN_TAG, RUN_NAME_TAG, USER_TAG

# Reserved tag -> the run attribute holding the same value.
TAG_ATTRIBUTES = {
    RUN_NAME_TAG: "run_name",
    USER_TAG: "user",
    PARENT_RUN_TAG: "parent_run_id",
}
_MARKER = "mlflow."


def heron_filter(mlflow_filter: str | None) -> str | None:
    if not mlflow_filter or _MARKER not in mlflow_filter:
        return mlflow_filter
    expr = parse_heron_filter(mlflow_filter)
    return None if expr is None else _render(_rewrite(expr))


def heron_order_by(clauses: Sequence[str]) -> list[str]:
    if not any(_MARKER in clause for clause in clauses):
        return [clause for clause in clauses if clause.strip()]
    return [
        f"{_identifier(_field(key.identifier))} {'DESC' if key.descending else 'ASC'}"
        for key in parse_heron_order_by(list(clauses))
    ]


def _field(identifier: Identifier) -> Identifier:
    if identifier.kind == "tag" and identifier.key in TAG_ATTRIBUTES:
        return Identifier("attribute", TAG_ATTRIBUTES[identifier.key], identifier.position)
    return identifier


def _rewrite(expr: Expr) -> Expr:
    if isinstance(expr, Comparison):
        return Comparison(_field(expr.left), expr.op, expr.value)
    if isinstance(expr, Not):
        return Not(_rewrite(expr.operand))
    return type(expr)(tuple(_rewrite(operand) for operand in expr.operands))


def _render(expr: Expr) -> str:
    if isinstance(expr, Comparison):
        left = _identifier(expr.left)
        if expr.value is None:
            return f"{left} {expr.op}"
        if isinstance(expr.value, tuple):
            values = ", ".join(_literal(v) for v in expr.value)
            return f"{left} {expr.op} ({values})"
        return f"{left} {expr.op} {_literal(expr.value)}"
    if isinstance(expr, Not):
        return f"NOT ({_render(expr.operand)})"
    joiner = " AND " if isinstance(expr, And) else " OR "
    assert isinstance(expr, (And, Or))
    return joiner.join(f"({_render(operand)})" for operand in expr.operands)


def _quoted(text: str, quote: str) -> str:
    escaped = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{escaped}{quote}"


def _identifier(identifier: Identifier) -> str:
    prefix = {"attribute": "attributes", "dataset": "datasets"}.get(
        identifier.kind, f"{identifier.kind}s"
    )
    return f"{prefix}.{_quoted(identifier.key, '`')}"


def _literal(value: Literal_) -> str:
    return _quoted(value, "'") if isinstance(value, str) else repr(value)
