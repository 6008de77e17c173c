"""`heron serve URI`: a scoring server for one model (uvicorn, N worker processes)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from heron.cli.state import state_of
from heron.client.config import tracking_uri
from heron.serving.settings import SETTINGS_ENV, BatchingSettings, ServingSettings

FastSklearn = Annotated[
    bool,
    typer.Option(
        "--fast-sklearn/--no-fast-sklearn",
        envvar="HERON_SERVING_FAST_SKLEARN",
        help="Compiled numpy inference for LogisticRegression, linear regressions, decision "
        "trees and random forests (the same outputs as scikit-learn, without its per-call "
        "overhead); --no-fast-sklearn always calls scikit-learn.",
    ),
]


def serve(
    ctx: typer.Context,
    model_uri: Annotated[
        str,
        typer.Argument(help="The model: a folder, runs:/<run_id>/<path> or models:/name@alias."),
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; each loads the model.")
    ] = 1,
    name: Annotated[
        str | None,
        typer.Option(help="The name V2 requests use (/v2/models/NAME). Default: from the URI."),
    ] = None,
    max_batch_size: Annotated[
        int,
        typer.Option(
            min=1,
            help="Merge concurrent requests into one predict call of up to this many rows "
            "(1: off). Only for models that return one output row per input row.",
        ),
    ] = 1,
    max_latency_ms: Annotated[
        float,
        typer.Option(min=0, help="With batching, wait at most this long for more requests."),
    ] = 2.0,
    max_queue: Annotated[
        int,
        typer.Option(min=1, help="Requests in progress per worker before answering 503."),
    ] = 128,
    timeout: Annotated[
        float, typer.Option(min=0.001, help="Per-request timeout in seconds (then 504).")
    ] = 30.0,
    log_predictions: Annotated[
        str | None,
        typer.Option(help="Folder or URL for the Parquet prediction log (DuckDB reads it)."),
    ] = None,
    log_sample_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of requests logged.")
    ] = 1.0,
    fast_sklearn: FastSklearn = True,
) -> None:
    """Serve a model over HTTP: MLflow /invocations and the Open Inference Protocol V2."""
    settings = ServingSettings(
        model_uri=model_uri,
        model_name=name,
        tracking_uri=tracking_uri(state_of(ctx).tracking_uri),
        batching=BatchingSettings(max_batch_size, max_latency_ms),
        max_queue=max_queue,
        request_timeout_s=timeout,
        prediction_log=log_predictions,
        log_sample_rate=log_sample_rate,
        fast_sklearn=fast_sklearn,
    )
    typer.echo(f"Heron scoring server for {model_uri} on http://{host}:{port}", err=True)
    run_scoring_server(settings, host, port, workers)


def run_scoring_server(settings: ServingSettings, host: str, port: int, workers: int) -> None:
    import uvicorn

    # uvicorn's factory mode leaves the environment as the only channel to its workers.
    os.environ[SETTINGS_ENV] = settings.to_json()
    uvicorn.run(
        "heron.serving.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        # Per request, the access log's call and the proxy-headers middleware cost ~3% of
        # a small request's CPU (py-spy); a scoring server logs predictions instead.
        access_log=False,
        proxy_headers=False,
        # Drain in-flight requests on SIGTERM for up to this long, then stop.
        timeout_graceful_shutdown=max(int(settings.request_timeout_s) + 1, 5),
    )
