"""Model URIs: ``models:/name/3``, ``models:/name@champion``, ``models:/name/latest``,
and run artifact URIs ``runs:/<run_id>/<path>``. Pure parsing, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from heron.errors import InvalidArgument

MODELS_SCHEME = "models:/"
RUNS_SCHEME = "runs:/"

# Percent-encoded '/', '\' and '.' let a path smuggle separators or '..' past checks
# that look at the decoded text, so they are refused wherever a path is accepted.
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)


@dataclass(frozen=True)
class ModelReference:
    """What a ``models:/`` URI names: exactly one of version, alias or latest."""

    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def is_latest(self) -> bool:
        return self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{MODELS_SCHEME}{self.name}@{self.alias}"
        return f"{MODELS_SCHEME}{self.name}/{self.version if self.version else 'latest'}"


def parse_model_uri(uri: str) -> ModelReference:
    usage = "use models:/<name>/<version>, models:/<name>@<alias> or models:/<name>/latest"
    if not uri.startswith(MODELS_SCHEME):
        raise InvalidArgument(f"{uri!r} is not a model URI; {usage}")
    rest = uri[len(MODELS_SCHEME) :].lstrip("/")
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        if not name or not alias or "/" in alias:
            raise InvalidArgument(f"malformed model URI {uri!r}; {usage}")
        return ModelReference(name, alias=alias)
    name, _, tail = rest.rpartition("/")
    if not name or not tail:
        raise InvalidArgument(f"malformed model URI {uri!r}; {usage}")
    if tail.lower() == "latest":
        return ModelReference(name)
    if not tail.isdigit() or int(tail) < 1:
        raise InvalidArgument(
            f"malformed model URI {uri!r}: {tail!r} is neither a version number nor "
            f"'latest'; {usage}"
        )
    return ModelReference(name, version=int(tail))


@dataclass(frozen=True)
class RunArtifactReference:
    run_id: str
    path: str  # relative to the run's artifact root, "" for the root itself


def parse_runs_uri(uri: str) -> RunArtifactReference:
    if not uri.startswith(RUNS_SCHEME):
        raise InvalidArgument(f"{uri!r} is not a runs:/<run_id>/<path> URI")
    rest = uri[len(RUNS_SCHEME) :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidArgument(f"malformed URI {uri!r}: use runs:/<run_id>/<path/to/model>")
    refuse_encoded_separators(uri)
    return RunArtifactReference(run_id, path.strip("/"))


def refuse_encoded_separators(text: str) -> None:
    if _ENCODED_SEPARATOR.search(text):
        raise InvalidArgument(
            f"{text!r} contains a percent-encoded '/', '\\' or '.': write the path plainly"
        )
