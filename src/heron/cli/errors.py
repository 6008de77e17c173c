"""The one place where Heron errors become exit codes and messages on stderr.

Commands simply let ``HeronError`` propagate; the root group catches it so that no
command can forget, and so users see one line (or the parser's caret block) instead
of a traceback. Typer's own usage errors never reach here and keep exit code 2.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from heron.errors import (
    AlreadyExists,
    Conflict,
    HeronError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

# Ordered most specific first; SearchSyntaxError is an InvalidArgument and maps with it.
EXIT_CODES: tuple[tuple[type[HeronError], int], ...] = (
    (InvalidArgument, 2),
    (NotFound, 3),
    (AlreadyExists, 4),
    (Conflict, 5),
    (PermissionDenied, 6),
    (Unauthenticated, 7),
)
GENERIC_EXIT_CODE = 1


def exit_code_for(error: HeronError) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return GENERIC_EXIT_CODE


def report(error: HeronError) -> None:
    # Plain echo, not rich: messages quote user input that may contain "[...]", and a
    # SearchSyntaxError's caret line must keep its exact column.
    typer.echo(f"Error: {error.message}", err=True)


class HeronGroup(TyperGroup):
    """Root command group that turns ``HeronError`` into a clean exit.

    Subcommand groups are invoked from inside this ``invoke``, so wrapping it once
    covers every command.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except HeronError as error:
            report(error)
            raise typer.Exit(exit_code_for(error)) from None
