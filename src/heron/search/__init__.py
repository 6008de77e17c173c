"""Heron's search language: parse filter and order-by strings into a syntax tree.

Stores compile the tree (``heron.search.ast``) to their own query language.
"""

from heron.search.ast import (
    DATASET_FIELDS,
    RUN_ATTRIBUTE_ALIASES,
    RUN_ATTRIBUTES,
    And,
    Comparison,
    ComparisonOp,
    Expr,
    Identifier,
    Kind,
    Literal_,
    Not,
    Or,
    OrderKey,
)
from heron.search.parser import parse_filter, parse_order_by

__all__ = [
    "DATASET_FIELDS",
    "RUN_ATTRIBUTES",
    "RUN_ATTRIBUTE_ALIASES",
    "And",
    "Comparison",
    "ComparisonOp",
    "Expr",
    "Identifier",
    "Kind",
    "Literal_",
    "Not",
    "Or",
    "OrderKey",
    "parse_filter",
    "parse_order_by",
]
