"""The syntax tree of Heron's search language.

Pure data: the parser in ``parser.py`` builds it, and each store compiles it to its
own query language. Nothing here knows about SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What an identifier's prefix names. ``attribute`` keys are a closed set, see
# ``RUN_ATTRIBUTES``; the others are free-form keys chosen by the user.
Kind = Literal["metric", "param", "tag", "attribute", "dataset"]

Literal_ = str | float | int

# Canonical run attribute names, with the type of value they compare against.
RUN_ATTRIBUTES: dict[str, Literal["string", "number"]] = {
    "run_id": "string",
    "run_name": "string",
    "status": "string",
    "user": "string",
    "start_time": "number",
    "end_time": "number",
    "experiment_id": "string",
    "lifecycle_stage": "string",
    "parent_run_id": "string",
}

# Other spellings users bring from MLflow, mapped to the canonical name.
RUN_ATTRIBUTE_ALIASES: dict[str, str] = {
    "run_uuid": "run_id",
    "name": "run_name",
    "user_id": "user",
    "created": "start_time",
}

# Keys of ``datasets.*``: a run matches when one of its inputs matches.
DATASET_FIELDS: frozenset[str] = frozenset({"name", "digest", "context", "source_type", "source"})


@dataclass(frozen=True)
class Vocabulary:
    """What a search over one kind of object may name: its attributes (with their value
    types), other spellings of them, and which key prefixes apply."""

    subject: str  # "run", "model", "model version": used in error messages
    attributes: dict[str, Literal["string", "number"]]
    aliases: dict[str, str]
    kinds: frozenset[Kind]


RUNS = Vocabulary(
    "run",
    RUN_ATTRIBUTES,
    RUN_ATTRIBUTE_ALIASES,
    frozenset({"metric", "param", "tag", "attribute", "dataset"}),
)

# Registered models and model versions: attributes and tags. The aliases are the field
# names MLflow users know from its registry search.
MODELS = Vocabulary(
    "model",
    {
        "name": "string",
        "description": "string",
        "owner": "string",
        "created_time": "number",
        "updated_time": "number",
    },
    {
        "creation_timestamp": "created_time",
        "last_updated_timestamp": "updated_time",
        "created": "created_time",
    },
    frozenset({"tag", "attribute"}),
)

MODEL_VERSIONS = Vocabulary(
    "model version",
    {
        "name": "string",
        "version": "number",
        "run_id": "string",
        "source": "string",
        "status": "string",
        "stage": "string",
        "created_by": "string",
        "description": "string",
        "created_time": "number",
        "updated_time": "number",
    },
    {
        "version_number": "version",
        "current_stage": "stage",
        "user_id": "created_by",
        "creation_timestamp": "created_time",
        "last_updated_timestamp": "updated_time",
        "created": "created_time",
        "run_uuid": "run_id",
    },
    frozenset({"tag", "attribute"}),
)

# Experiments: MLflow's experiment search names ``name``, ``creation_time``,
# ``last_update_time`` and tags, and orders by those and ``experiment_id``.
EXPERIMENTS = Vocabulary(
    "experiment",
    {
        "name": "string",
        "experiment_id": "string",  # a string to clients, an integer in the store
        "creation_time": "number",
        "last_update_time": "number",
    },
    {"id": "experiment_id", "created": "creation_time", "updated": "last_update_time"},
    frozenset({"tag", "attribute"}),
)

ComparisonOp = Literal[
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "NOT LIKE",
    "ILIKE",
    "NOT ILIKE",
    "IN",
    "NOT IN",
    "IS NULL",
    "IS NOT NULL",
]


@dataclass(frozen=True)
class Identifier:
    kind: Kind
    key: str
    position: int = 0  # offset in the source text, for error messages


@dataclass(frozen=True)
class Comparison:
    """``left op value``. ``value`` is a tuple for IN / NOT IN and None for IS [NOT] NULL."""

    left: Identifier
    op: ComparisonOp
    value: Literal_ | tuple[Literal_, ...] | None


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


Expr = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderKey:
    identifier: Identifier
    descending: bool = False
