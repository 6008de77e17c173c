"""``heron endpoints create|update|list|show|serve|delete``: serving endpoints from a shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from heron.cli import output
from heron.cli.serve import FastSklearn, run_scoring_server
from heron.cli.state import client, state_of
from heron.client.config import tracking_uri
from heron.entities.endpoint import Endpoint, EndpointBatching, EndpointRoute, endpoint_to_dict
from heron.services.endpoints import parse_route
from heron.serving.deploy import kubernetes_manifests
from heron.serving.settings import ServingSettings

app = typer.Typer(
    no_args_is_help=True,
    help="Serving endpoints: weighted routes to model versions, shadows, live changes.",
)

Name = Annotated[str, typer.Argument(help="Endpoint name.")]
JsonOption = Annotated[bool, typer.Option("--json", help=output.JSON_HELP)]
RoutesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--route",
        help="MODEL_URI=WEIGHT, repeatable; weights are relative (95 and 5: 95% and 5%).",
    ),
]
ShadowsOption = Annotated[
    list[str] | None,
    typer.Option("--shadow", help="A model URI scoring a copy of each request; repeatable."),
]
BatchOption = Annotated[
    int | None,
    typer.Option(min=1, help="Merge concurrent requests up to this many rows (1: off)."),
]
LatencyOption = Annotated[
    float | None, typer.Option(min=0, help="With batching, wait at most this long for more.")
]


def _routes(texts: list[str] | None) -> list[EndpointRoute] | None:
    return None if not texts else [parse_route(t) for t in texts]


def _batching(
    current: EndpointBatching, size: int | None, latency: float | None
) -> EndpointBatching | None:
    if size is None and latency is None:
        return None
    return EndpointBatching(
        size if size is not None else current.max_batch_size,
        latency if latency is not None else current.max_latency_ms,
    )


def _show(endpoint: Endpoint, as_json: bool) -> None:
    if as_json:
        output.emit_json(endpoint_to_dict(endpoint))
        return
    table = Table(title=f"endpoint {endpoint.name} (revision {endpoint.revision})")
    table.add_column("kind")
    table.add_column("model URI", overflow="fold")
    table.add_column("traffic", justify="right")
    total = sum(r.weight for r in endpoint.routes) or 1
    for r in endpoint.routes:
        table.add_row("route", Text(r.model_uri), f"{100 * r.weight / total:.1f}%")
    for uri in endpoint.shadows:
        table.add_row("shadow", Text(uri), "copy")
    output.console().print(table)
    batching = endpoint.batching
    if batching.max_batch_size > 1:
        typer.echo(
            f"batching: up to {batching.max_batch_size} rows, {batching.max_latency_ms:g} ms"
        )


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    model: Annotated[
        str | None, typer.Option(help="The one model to route all traffic to.")
    ] = None,
    route: RoutesOption = None,
    shadow: ShadowsOption = None,
    max_batch_size: BatchOption = None,
    max_latency_ms: LatencyOption = None,
    description: Annotated[str, typer.Option(help="What the endpoint is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an endpoint: `--model URI`, or `--route URI=WEIGHT` several times."""
    routes = ([EndpointRoute(model, 100)] if model else []) + (_routes(route) or [])
    if not routes:
        raise typer.BadParameter("give --model URI or at least one --route URI=WEIGHT")
    endpoint = client(ctx).create_endpoint(
        name,
        routes,
        shadows=shadow or [],
        batching=_batching(EndpointBatching(), max_batch_size, max_latency_ms),
        description=description,
    )
    _show(endpoint, as_json)


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    route: RoutesOption = None,
    shadow: ShadowsOption = None,
    no_shadows: Annotated[bool, typer.Option(help="Remove every shadow route.")] = False,
    max_batch_size: BatchOption = None,
    max_latency_ms: LatencyOption = None,
    expected_revision: Annotated[
        int | None, typer.Option(min=1, help="Fail if the endpoint changed since this revision.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change routes, shadows or batching; what is not given stays. Servers follow live."""
    heron = client(ctx)
    current = heron.get_endpoint(name)
    shadows = [] if no_shadows else shadow
    endpoint = heron.update_endpoint(
        name,
        routes=_routes(route),
        shadows=shadows,
        batching=_batching(current.batching, max_batch_size, max_latency_ms),
        expected_revision=expected_revision or current.revision,
    )
    _show(endpoint, as_json)


@app.command("list")
def list_endpoints(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every endpoint, with its routes."""
    endpoints = client(ctx).list_endpoints()
    if as_json:
        output.emit_json([endpoint_to_dict(e) for e in endpoints])
        return
    table = Table()
    for column in ("name", "revision", "routes", "shadows", "updated"):
        table.add_column(column, overflow="fold")
    for e in endpoints:
        table.add_row(
            Text(e.name),
            str(e.revision),
            Text(", ".join(f"{r.model_uri}={r.weight}" for r in e.routes)),
            Text(", ".join(e.shadows) or output.MISSING),
            output.fmt_time(e.updated_at),
        )
    output.console().print(table)


@app.command("show")
def show(ctx: typer.Context, name: Name, as_json: JsonOption = False) -> None:
    """One endpoint: its routes with their share of traffic, shadows and batching."""
    _show(client(ctx).get_endpoint(name), as_json)


@app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete an endpoint (servers following it keep their last routes)."""
    client(ctx).delete_endpoint(name)
    typer.echo(f"deleted endpoint {name}")


@app.command("serve")
def serve(
    ctx: typer.Context,
    name: Name,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    poll_interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between checks for changes.")
    ] = 2.0,
    max_queue: Annotated[
        int, typer.Option(min=1, help="Requests in progress per worker before 503.")
    ] = 128,
    timeout: Annotated[float, typer.Option(min=0.001, help="Per-request timeout (s).")] = 30.0,
    log_predictions: Annotated[
        str | None,
        typer.Option(help="Folder or URL for the Parquet prediction log (DuckDB reads it)."),
    ] = None,
    log_sample_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of requests logged.")
    ] = 1.0,
    poll_backoff_max: Annotated[
        float,
        typer.Option(
            min=0.05, help="While the control plane fails, polls back off up to this (s)."
        ),
    ] = 30.0,
    request_key_field: Annotated[
        str | None,
        typer.Option(
            help="Sticky A/B assignment by this params field when the request has no "
            "x-heron-request-key header (taken out before the model sees the params)."
        ),
    ] = None,
    fast_sklearn: FastSklearn = True,
) -> None:
    """Serve an endpoint, following its routes live (no restart, no dropped requests)."""
    client(ctx).get_endpoint(name)  # fail here, with exit code 3, if there is no such endpoint
    settings = ServingSettings(
        endpoint=name,
        tracking_uri=tracking_uri(state_of(ctx).tracking_uri),
        poll_interval_s=poll_interval,
        poll_backoff_max_s=poll_backoff_max,
        max_queue=max_queue,
        request_timeout_s=timeout,
        prediction_log=log_predictions,
        log_sample_rate=log_sample_rate,
        fast_sklearn=fast_sklearn,
        request_key_field=request_key_field,
    )
    typer.echo(f"Heron scoring server for endpoint {name} on http://{host}:{port}", err=True)
    run_scoring_server(settings, host, port, workers)


@app.command("k8s")
def k8s(
    ctx: typer.Context,
    name: Name,
    image: Annotated[
        str, typer.Option(help="An image with heron-ml, e.g. one `heron models build-docker` made.")
    ],
    pod_tracking_uri: Annotated[
        str | None,
        typer.Option(help="Where pods reach the control plane. Default: --tracking-uri."),
    ] = None,
    replicas: Annotated[int, typer.Option(min=1, help="Minimum replicas.")] = 2,
    max_replicas: Annotated[int, typer.Option(min=1, help="Autoscaler's maximum.")] = 10,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes per pod.")] = 2,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Kubernetes manifests (Deployment, Service, HPA) serving the endpoint."""
    client(ctx).get_endpoint(name)  # exit code 3 if there is no such endpoint
    text = kubernetes_manifests(
        name,
        image=image,
        tracking_uri=pod_tracking_uri or tracking_uri(state_of(ctx).tracking_uri),
        replicas=replicas,
        max_replicas=max_replicas,
        workers=workers,
    )
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}; apply with: kubectl apply -f {output}", err=True)
