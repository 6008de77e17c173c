"""``heron models list|show|versions|register|alias|stage|request|requests|approve|reject|
history|lineage|policy|grant|revoke|delete|restore``: the model registry from a shell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from heron.cli import output
from heron.cli.state import client
from heron.entities import registry_wire as wire
from heron.entities.registry import (
    LineageGraph,
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)
from heron.store import ViewType

JsonOption = Annotated[bool, typer.Option("--json", help=output.JSON_HELP)]
Name = Annotated[str, typer.Argument(help="Registered model name.")]
VersionArg = Annotated[int, typer.Argument(min=1, help="Version number.")]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="Why.")]


def _tags(pairs: list[str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--tag")
        tags[key] = value
    return tags


def _aliases(model: RegisteredModel) -> str:
    return ", ".join(f"@{a}→v{v}" for a, v in sorted(model.aliases.items())) or output.MISSING


def _versions_table(versions: list[ModelVersion]) -> Table:
    table = Table()
    for column in ("model", "version", "aliases", "stage", "status", "run", "created", "by"):
        table.add_column(column, justify="right" if column == "version" else "left")
    table.add_column("signature", overflow="fold")
    for v in versions:
        table.add_row(
            Text(v.name),
            str(v.version),
            Text(", ".join(f"@{a}" for a in v.aliases) or output.MISSING, style="bold cyan"),
            v.stage.value,
            Text(v.status.value, style="green" if v.status.value == "READY" else "yellow"),
            (v.run_id or output.MISSING)[:8],
            output.fmt_time(v.created_at),
            Text(v.created_by),
            Text(v.signature or output.MISSING),
        )
    return table


def _request_line(request: TransitionRequest) -> str:
    return (
        f"request {request.id}: {request.name} v{request.version} -> {request.target} "
        f"is {request.status.value}"
    )


def list_models(
    ctx: typer.Context,
    filter_string: Annotated[
        str | None, typer.Option("--filter", help="e.g. \"name LIKE 'fraud%'\"")
    ] = None,
    view: Annotated[ViewType, typer.Option(help="Which lifecycle stages.")] = ViewType.ACTIVE_ONLY,
    max_results: Annotated[int, typer.Option(min=1)] = 1000,
    as_json: JsonOption = False,
) -> None:
    """List registered models."""
    models = client(ctx).search_registered_models(filter_string, view=view, max_results=max_results)
    if as_json:
        output.emit_json({"models": [wire.model_to_dict(m) for m in models]})
        return
    if not models.items:
        output.console().print("No registered models.")
        return
    table = Table()
    for column in ("name", "latest", "aliases", "owner", "updated", "description"):
        table.add_column(column)
    for m in models:
        table.add_row(
            Text(m.name, style="bold"),
            str(m.latest_version or output.MISSING),
            Text(_aliases(m), style="cyan"),
            Text(m.owner),
            output.fmt_time(m.updated_at),
            Text(m.description),
        )
    output.console().print(table)


def show(ctx: typer.Context, name: Name, as_json: JsonOption = False) -> None:
    """A model with its versions, aliases, policy and open requests."""
    heron = client(ctx)
    model = heron.get_registered_model(name)
    versions = heron.search_model_versions(f"name = '{_quote(name)}'", max_results=1000).items
    requests = heron.list_requests(name, "open")
    if as_json:
        output.emit_json(
            {
                "model": wire.model_to_dict(model),
                "versions": [wire.version_to_dict(v) for v in versions],
                "open_requests": [wire.request_to_dict(r) for r in requests],
            }
        )
        return
    rows = {
        "name": model.name,
        "description": model.description or output.MISSING,
        "owner": model.owner,
        "lifecycle": model.lifecycle_stage.value,
        "aliases": _aliases(model),
        "protected": ", ".join(model.protected_aliases) or output.MISSING,
        "self-approval": "allowed" if model.allow_self_approval else "forbidden",
        "tags": ", ".join(f"{k}={v}" for k, v in model.tags.items()) or output.MISSING,
    }
    console = output.console()
    console.print(output.key_value_table(f"model {model.name}", rows))
    if versions:
        console.print(_versions_table(versions))
    for request in requests:
        console.print(Text(_request_line(request), style="yellow"))


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def versions(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this model's versions.")] = None,
    filter_string: Annotated[
        str | None, typer.Option("--filter", help="e.g. \"stage = 'Production'\"")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List model versions, newest first."""
    clauses = [f"name = '{_quote(name)}'"] if name else []
    if filter_string:
        clauses.append(f"({filter_string})")
    found = client(ctx).search_model_versions(" AND ".join(clauses) or None, max_results=1000)
    if as_json:
        output.emit_json({"versions": [wire.version_to_dict(v) for v in found]})
        return
    output.console().print(_versions_table(found.items) if found.items else "No versions.")


def register(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="runs:/<run_id>/<path> of a logged model.")],
    name: Name,
    description: Annotated[str | None, typer.Option(help="About this version.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a run's model as the next version of NAME."""
    version = client(ctx).register_model(source, name, description=description, tags=_tags(tag))
    if as_json:
        output.emit_json(wire.version_to_dict(version))
        return
    output.console().print(f"Registered {version.name} version {version.version} ({version.uri}).")


def alias(
    ctx: typer.Context,
    name: Name,
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="e.g. challenger")],
    version: Annotated[int | None, typer.Argument(min=1, help="Version to point at.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
) -> None:
    """Point ALIAS at VERSION (or remove it with --delete)."""
    heron = client(ctx)
    if delete:
        heron.delete_alias(name, alias_name)
        output.console().print(f"Removed @{alias_name} from {name}.")
        return
    if version is None:
        raise typer.BadParameter("give the VERSION to point at, or --delete", param_hint="VERSION")
    heron.set_alias(name, alias_name, version)
    output.console().print(f"{name}@{alias_name} -> version {version}.")


def stage(
    ctx: typer.Context,
    name: Name,
    version: VersionArg,
    stage_name: Annotated[str, typer.Argument(metavar="STAGE", help="None, Staging, ...")],
    archive_existing: Annotated[
        bool, typer.Option(help="Archive the versions now in that stage.")
    ] = False,
) -> None:
    """Move VERSION to STAGE (MLflow-style stages)."""
    moved = client(ctx).transition_stage(
        name, version, stage_name, archive_existing=archive_existing
    )
    output.console().print(f"{name} version {version} is now in {moved.stage.value}.")


def request(
    ctx: typer.Context,
    name: Name,
    version: VersionArg,
    to: Annotated[str, typer.Argument(help="Alias (e.g. champion) or stage.")],
    comment: CommentOption = "",
    as_json: JsonOption = False,
) -> None:
    """Ask for VERSION to become TO; an approver accepts or rejects it."""
    made = client(ctx).request_transition(name, version, to, comment=comment)
    if as_json:
        output.emit_json(wire.request_to_dict(made))
        return
    output.console().print(_request_line(made))


def requests(
    ctx: typer.Context,
    name: Name,
    status: Annotated[str | None, typer.Option(help="open, approved, rejected, cancelled")] = None,
    as_json: JsonOption = False,
) -> None:
    """Transition requests of a model."""
    found = client(ctx).list_requests(name, status)
    if as_json:
        output.emit_json({"requests": [wire.request_to_dict(r) for r in found]})
        return
    table = Table()
    for column in ("id", "version", "to", "status", "by", "created", "comment", "resolved by"):
        table.add_column(column)
    for r in found:
        table.add_row(
            str(r.id),
            str(r.version),
            Text(r.target),
            r.status.value,
            Text(r.requested_by),
            output.fmt_time(r.created_at),
            Text(r.comment),
            Text(r.resolved_by or output.MISSING),
        )
    output.console().print(table if found else "No requests.")


def approve(
    ctx: typer.Context,
    name: Name,
    request_id: Annotated[int, typer.Argument(min=1)],
    comment: CommentOption = "",
) -> None:
    """Accept a transition request and apply its move (needs the approver role)."""
    output.console().print(_request_line(client(ctx).approve(name, request_id, comment=comment)))


def reject(
    ctx: typer.Context,
    name: Name,
    request_id: Annotated[int, typer.Argument(min=1)],
    comment: CommentOption = "",
) -> None:
    """Turn a transition request down (needs the approver role)."""
    output.console().print(_request_line(client(ctx).reject(name, request_id, comment=comment)))


def history(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="A model; omit for the whole registry.")
    ] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON event per line.")] = False,
) -> None:
    """The audit log: every change and refused attempt, oldest first."""
    heron = client(ctx)
    events = []
    after = 0
    while True:  # page through the whole log
        page = heron.model_history(name, after_id=after, limit=1000)
        events.extend(page)
        if len(page) < 1000:
            break
        after = page[-1].id
    if jsonl:
        for event in events:
            typer.echo(orjson.dumps(wire.event_to_dict(event)).decode())
        return
    table = Table()
    for column in ("#", "time", "actor", "action", "model", "version", "change", "outcome"):
        table.add_column(column, overflow="fold")
    for e in events:
        change = f"{_brief(e.before)} → {_brief(e.after)}"
        refused = e.outcome != "ok"
        table.add_row(
            str(e.id),
            output.fmt_time(e.at),
            Text(e.actor),
            e.action,
            Text(e.model or output.MISSING),
            str(e.version) if e.version is not None else output.MISSING,
            Text(change),
            Text(e.outcome, style="red" if refused else "green"),
        )
    output.console().print(table if events else "No events.")


def _brief(data: dict[str, object] | None) -> str:
    if data is None:
        return output.MISSING
    return ", ".join(f"{k}={v}" for k, v in data.items())


def lineage(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(help="models:/name/3, models:/name@alias, runs:/<id> or dataset:<digest>"),
    ],
    as_json: JsonOption = False,
) -> None:
    """Datasets -> runs -> model versions around TARGET, printed as a tree."""
    graph = client(ctx).lineage(target)
    if as_json:
        output.emit_json(wire.lineage_to_dict(graph))
        return
    output.console().print(lineage_tree(graph))


def lineage_tree(graph: LineageGraph) -> Tree:
    """The graph as a tree from its root: upstream for a model, downstream otherwise."""
    labels = {n.id: n for n in graph.nodes}
    root_kind = labels[graph.root].kind
    upstream = root_kind == "model_version"
    styles = {"dataset": "magenta", "run": "blue", "model_version": "bold green"}

    def label(node_id: str, relation: str = "") -> Text:
        node = labels[node_id]
        text = Text(f"{node.kind.replace('_', ' ')} ", style="dim")
        text.append(node.label, style=styles.get(node.kind, ""))
        if relation:
            text.append(f"  [{relation}]", style="dim")
        return text

    tree = Tree(label(graph.root))

    def grow(branch: Tree, node_id: str, seen: frozenset[str]) -> None:
        for edge in graph.edges:
            nxt = edge.source if upstream and edge.target == node_id else None
            if not upstream and edge.source == node_id:
                nxt = edge.target
            if nxt is not None and nxt not in seen:
                grow(branch.add(label(nxt, edge.relation)), nxt, seen | {nxt})

    grow(tree, graph.root, frozenset({graph.root}))
    if root_kind == "run":  # a run has both: its inputs above, its versions below
        upstream = True
        grow(tree, graph.root, frozenset({graph.root}))
    return tree


def policy(
    ctx: typer.Context,
    name: Name,
    protect: Annotated[
        list[str] | None,
        typer.Option("--protect", help="Alias or stage that moves only through requests."),
    ] = None,
    unprotect_all: Annotated[bool, typer.Option(help="Protect nothing.")] = False,
    self_approval: Annotated[
        bool | None,
        typer.Option("--allow-self-approval/--forbid-self-approval", show_default=False),
    ] = None,
) -> None:
    """Set a model's governance policy (needs the admin role)."""
    protected = [] if unprotect_all else protect
    model = client(ctx).set_model_policy(
        name, protected_aliases=protected, allow_self_approval=self_approval
    )
    shown = ", ".join(model.protected_aliases) or "nothing"
    output.console().print(f"{name}: protected {shown}.")


def grant(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="approver or admin")],
) -> None:
    """Give USER a registry role (needs admin; the first admin may appoint themselves)."""
    client(ctx).grant_role(user, role)
    output.console().print(f"{user} is now {role}.")


def revoke(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="approver or admin")],
) -> None:
    """Take a registry role away from USER (needs admin)."""
    client(ctx).revoke_role(user, role)
    output.console().print(f"{user} is no longer {role}.")


def delete(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int | None, typer.Argument(min=1, help="Only this version.")] = None,
) -> None:
    """Delete a model or one version (restorable)."""
    heron = client(ctx)
    if version is None:
        heron.delete_registered_model(name)
    else:
        heron.delete_model_version(name, version)
    output.console().print(f"Deleted {name}{f' version {version}' if version else ''}.")


def restore(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int | None, typer.Argument(min=1, help="Only this version.")] = None,
) -> None:
    """Restore a deleted model or version."""
    heron = client(ctx)
    if version is None:
        heron.restore_registered_model(name)
    else:
        heron.restore_model_version(name, version)
    output.console().print(f"Restored {name}{f' version {version}' if version else ''}.")


COMMANDS: tuple[Callable[..., None], ...] = (
    show,
    versions,
    register,
    alias,
    stage,
    request,
    requests,
    approve,
    reject,
    history,
    lineage,
    policy,
    grant,
    revoke,
    delete,
    restore,
)


def register_commands(app: typer.Typer) -> None:
    app.command("list")(list_models)
    for command in COMMANDS:
        app.command()(command)
