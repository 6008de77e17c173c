"""Per-invocation state: where to track, one lazily opened Client, and id lookups."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import typer

from heron.client import Client
from heron.entities import Experiment, Run
from heron.errors import InvalidArgument, NotFound
from heron.store import ViewType

# Run ids are 32 hex characters; tables show the first 8, so accept a unique prefix.
_RUN_ID_PREFIX = re.compile(r"[0-9a-f]{4,31}")


@dataclass
class State:
    tracking_uri: str | None
    _client: Client | None = field(default=None, repr=False)


def state_of(ctx: typer.Context) -> State:
    found = ctx.find_object(State)
    # Only reachable when a command is invoked without the root callback (not via `heron`).
    return found if found is not None else State(None)


def client(ctx: typer.Context) -> Client:
    """The Client for this invocation, opened on first use.

    Lazy because opening creates the schema of a fresh database: `--help` should not
    touch the store, and `heron db` must see the database as it is.
    """
    state = state_of(ctx)
    if state._client is None:
        opened = Client(state.tracking_uri)
        state._client = opened
        ctx.find_root().call_on_close(opened.close)
    return state._client


def all_experiments(heron: Client, view: ViewType = ViewType.ACTIVE_ONLY) -> list[Experiment]:
    found: list[Experiment] = []
    token: str | None = None
    while True:
        page = heron.search_experiments(view=view, page_token=token)
        found.extend(page.items)
        token = page.next_page_token
        if token is None:
            return found


def resolve_run(heron: Client, run_id: str) -> Run:
    """A run by full id, or by a unique prefix of one as shown in `heron runs list`."""
    try:
        return heron.get_run(run_id)
    except NotFound:
        if not _RUN_ID_PREFIX.fullmatch(run_id):
            raise
    experiments = [e.id for e in all_experiments(heron, ViewType.ALL)]
    matches = (
        heron.search_runs(
            experiments,
            filter_string=f"attributes.run_id LIKE '{run_id}%'",
            view=ViewType.ALL,
            max_results=2,
        ).items
        if experiments
        else []
    )
    if not matches:
        raise NotFound(f"no run with id {run_id!r}")
    if len(matches) > 1:
        raise InvalidArgument(f"run id prefix {run_id!r} is ambiguous: give more characters")
    return matches[0]
