"""Validation rules of the model registry: names, aliases, transition targets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from heron.entities.registry import Stage
from heron.errors import InvalidArgument

MAX_MODEL_NAME = 256
MAX_ALIAS = 256
MAX_DESCRIPTION = 5000

# Letters, digits, '_', '-' and '.': an alias appears in URIs (models:/name@alias) and on
# command lines, so '/', '@', spaces and quotes are out.
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
# "v3" is how MLflow users write version 3; as an alias it would be ambiguous.
_VERSION_LIKE = re.compile(r"^[vV]?\d+$")
STAGE_PREFIX = "stage:"


def validate_model_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument("a registered model needs a non-empty name, e.g. fraud-detector")
    if name != name.strip():
        raise InvalidArgument(f"model name {name!r} starts or ends with whitespace; remove it")
    if len(name) > MAX_MODEL_NAME:
        raise InvalidArgument(
            f"model name is {len(name)} characters; the limit is {MAX_MODEL_NAME}"
        )
    bad = sorted({c for c in name if c in "/@\\%" or ord(c) < 32})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidArgument(
            f"model name {name!r} contains {shown}; model URIs (models:/name@alias) cannot "
            "carry them: use letters, digits, spaces, '-', '_' or '.'"
        )
    return name


def deleted_model_name(name: str, now: int) -> str:
    """The name a model deleted with ``free_name`` takes: unique (names are, and a name is
    deleted at most once per millisecond), valid, and telling what it was."""
    suffix = f" (deleted {now})"
    return f"{name[: MAX_MODEL_NAME - len(suffix)].rstrip()}{suffix}"


def validate_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not alias:
        raise InvalidArgument("an alias needs a non-empty name, e.g. champion")
    if len(alias) > MAX_ALIAS:
        raise InvalidArgument(f"alias is {len(alias)} characters; the limit is {MAX_ALIAS}")
    if _VERSION_LIKE.match(alias):
        raise InvalidArgument(
            f"alias {alias!r} looks like a version number, so models:/name@{alias} would be "
            "ambiguous; choose a word such as champion or challenger"
        )
    if alias.lower() == "latest" or any(alias.lower() == s.value.lower() for s in Stage):
        raise InvalidArgument(
            f"{alias!r} is reserved (latest, and the stage names None, Staging, Production, "
            "Archived); choose another alias"
        )
    if not _ALIAS.match(alias):
        raise InvalidArgument(
            f"invalid alias {alias!r}: start with a letter or '_', then use letters, digits, "
            "'_', '-' or '.' (no '/', '@' or spaces)"
        )
    return alias


def validate_description(description: Any) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise InvalidArgument("description must be a string")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidArgument(
            f"description is {len(description)} characters; the limit is {MAX_DESCRIPTION}"
        )
    return description


def parse_target(target: str) -> str:
    """Canonical text of a transition target: an alias, or ``stage:<Stage>`` for a stage
    name (``Production``, ``stage:production``, ...)."""
    text = target.strip()
    if text.lower().startswith(STAGE_PREFIX):
        text = text[len(STAGE_PREFIX) :]
        try:
            return STAGE_PREFIX + Stage.parse(text).value
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from exc
    for stage in Stage:
        if text.lower() == stage.value.lower():
            return STAGE_PREFIX + stage.value
    return validate_alias(text)


def target_stage(target: str) -> Stage | None:
    if target.startswith(STAGE_PREFIX):
        return Stage(target[len(STAGE_PREFIX) :])
    return None


def protected_label_set(labels: Sequence[str]) -> list[str]:
    """Validate a policy's protected labels: aliases, or stage names written as targets."""
    return sorted({parse_target(label) for label in labels})
