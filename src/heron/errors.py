"""Heron's error hierarchy.

Every error a user can see is one of these. They carry no transport detail: the
HTTP status, MLflow error code and CLI exit code for each are chosen at the edge
(server, mlflow_compat, cli), in one place each.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "Conflict",
    "DataCorrupted",
    "GateFailed",
    "HeronError",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "SearchSyntaxError",
    "Unauthenticated",
    "Unavailable",
]


class HeronError(Exception):
    """Base class of every error Heron raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HeronError):
    """The experiment, run, artifact or other resource named does not exist."""


class AlreadyExists(HeronError):
    """A resource with that unique name or id already exists."""


class InvalidArgument(HeronError):
    """The input was malformed, out of range or not allowed in this state."""


class SearchSyntaxError(InvalidArgument):
    """A filter or order-by string could not be parsed.

    ``position`` is the 0-based character offset of the offending token, so that a
    CLI or UI can point at it; ``text`` is the string that was parsed.
    """

    def __init__(self, message: str, text: str, position: int) -> None:
        self.text = text
        self.position = position
        pointer = " " * position + "^"
        super().__init__(f"{message} at position {position}:\n  {text}\n  {pointer}")
        self.reason = message


class Conflict(HeronError):
    """The change conflicts with the current state (e.g. a concurrent update)."""


class DataCorrupted(HeronError):
    """Stored content no longer matches the checksum recorded when it was written."""


class PermissionDenied(HeronError):
    """The caller is known but not allowed to do this."""


class Unauthenticated(HeronError):
    """The caller could not be identified."""


class Unavailable(HeronError):
    """The tracking server could not be reached, or answered that it is overloaded.

    Nothing was stored by the failed request; retrying later is safe.
    """


class GateFailed(HeronError):
    """A promotion gate rejected a change."""
