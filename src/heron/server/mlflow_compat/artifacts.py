"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts/...``) and ``artifacts/list``.

MLflow's client addresses proxied artifacts by their path under the server's artifact
root, e.g. ``1/<run_id>/artifacts/model/model.pkl``. Each path is resolved to the run
that owns it, and the bytes go through TrackingService as with Heron's own routes: the
same checks, the same store, a sha256 recorded for every file written.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import re
from collections.abc import Callable
from typing import Annotated, BinaryIO

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from heron.artifacts import clean_artifact_path
from heron.errors import InvalidArgument, NotFound
from heron.server.mlflow_compat.dependencies import LoggedModelsDep, UrisDep
from heron.server.mlflow_compat.errors import MlflowRoute, MlflowStreamRoute
from heron.server.mlflow_compat.wire import file_info_json
from heron.server.responses import ServiceDep, json_response
from heron.server.streaming import body_reader, iter_chunks, size_of
from heron.services import TrackingService
from heron.services.logged_models import LoggedModelService, is_logged_model_id

logger = logging.getLogger("heron.server.mlflow")

proxy_router = APIRouter(route_class=MlflowStreamRoute, tags=["mlflow-artifacts"])
tracking_router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

_RUN_ID = re.compile(r"[0-9a-f]{32}")


def locate(service: TrackingService, path: str) -> tuple[str, str]:
    """The run owning ``path`` (relative to the artifact root) and the path in that run."""
    clean = clean_artifact_path(path)
    parts = clean.split("/")
    root = service.artifact_root
    for index in range(len(parts) - 1):
        if parts[index + 1] != "artifacts" or not _RUN_ID.fullmatch(parts[index]):
            continue
        try:
            run = service.get_run(parts[index])
        except NotFound:
            continue
        if run.artifact_uri == "/".join([root, *parts[: index + 2]]):
            return run.id, "/".join(parts[index + 2 :])
    raise NotFound(
        f"no run's artifacts are at {path!r}: proxied artifact paths look like "
        "<experiment_id>/<run_id>/artifacts/<file>"
    )


def locate_logged_model(logged_models: LoggedModelService, path: str) -> tuple[str, str] | None:
    """The logged model owning ``path`` (``<experiment>/models/<model_id>/artifacts/...``)
    and the path among its files; None when the path is not a logged model's."""
    parts = clean_artifact_path(path).split("/")
    for index in range(len(parts) - 2):
        if parts[index] != "models" or parts[index + 2] != "artifacts":
            continue
        if not is_logged_model_id(parts[index + 1]):
            continue
        try:
            model = logged_models.get_logged_model(parts[index + 1])
        except NotFound:
            continue
        root = logged_models.tracking.artifact_root
        if model.artifact_location == "/".join([root, *parts[: index + 3]]):
            return model.id, "/".join(parts[index + 3 :])
    return None


@proxy_router.put("/artifacts/{path:path}")
async def upload_artifact(
    path: str, request: Request, service: ServiceDep, logged_models: LoggedModelsDep
) -> Response:
    model = await anyio.to_thread.run_sync(locate_logged_model, logged_models, path)
    if model is not None:
        write: Callable[[str, str, BinaryIO], object] = logged_models.write_artifact
        owner, relative = model
    else:
        write = service.write_artifact
        owner, relative = await anyio.to_thread.run_sync(locate, service, path)
    reader = body_reader(request.stream())
    try:
        # The store is synchronous: it runs in a worker thread and pulls the body from
        # this event loop as it writes (see heron.server.streaming), at any size.
        await anyio.to_thread.run_sync(write, owner, relative, reader)
    except ClientDisconnect:
        logger.info("client went away while uploading %r to %s", relative, owner)
        return Response(status_code=400)
    finally:
        reader.close()
    return json_response({})


@proxy_router.get("/artifacts/{path:path}")
def download_artifact(path: str, service: ServiceDep, logged_models: LoggedModelsDep) -> Response:
    model = locate_logged_model(logged_models, path)
    # Opening raises NotFound before any byte is sent, so errors keep their status.
    if model is not None:
        relative = model[1]
        handle = logged_models.open_artifact(*model)
    else:
        run_id, relative = locate(service, path)
        handle = service.open_artifact(run_id, relative)
    size = size_of(handle)
    headers = {"Content-Length": str(size)} if size is not None else {}
    media_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
    return StreamingResponse(iter_chunks(handle), media_type=media_type, headers=headers)


@proxy_router.get("/artifacts")
def list_proxied_artifacts(
    service: ServiceDep,
    logged_models: LoggedModelsDep,
    path: Annotated[str | None, Query()] = None,
) -> Response:
    model = locate_logged_model(logged_models, path or "")
    if model is not None:
        listed = logged_models.list_artifacts(model[0], model[1] or None)
        return json_response(
            {"files": [file_info_json(f, f.path.rsplit("/", 1)[-1]) for f in listed]}
        )
    try:
        run_id, relative = locate(service, path or "")
    except NotFound:
        # Above a run's root (an experiment's folder, say) there is nothing to list
        # through the proxy; MLflow's client only lists inside a run.
        return json_response({"files": []})
    files = service.list_artifacts(run_id, relative or None)
    return json_response({"files": [file_info_json(f, f.path.rsplit("/", 1)[-1]) for f in files]})


@proxy_router.delete("/artifacts/{path:path}")
def delete_artifact(path: str, service: ServiceDep, logged_models: LoggedModelsDep) -> Response:
    """A file or folder of an active run (or of a logged model still being logged),
    with its recorded checksums. Deleting what is not there succeeds, as on MLflow's
    server; an owner that is not there does not."""
    model = locate_logged_model(logged_models, path)
    if model is not None:
        owner, relative = model
        delete: Callable[[str, str], None] = logged_models.delete_artifacts
    else:
        owner, relative = locate(service, path)
        delete = service.delete_artifacts
    with contextlib.suppress(NotFound):  # the owner exists (located above): the path did not
        delete(owner, relative)
    return json_response({})


@tracking_router.get("/artifacts/list")
def list_artifacts(request: Request, service: ServiceDep, uris: UrisDep) -> Response:
    query = request.query_params
    run_id = query.get("run_id") or query.get("run_uuid")
    if not run_id:
        raise InvalidArgument("Missing value for required parameter 'run_id'")
    run = service.get_run(run_id)
    files = service.list_artifacts(run_id, query.get("path") or None)
    return json_response(
        {
            "root_uri": uris.to_mlflow(run.artifact_uri),
            "files": [file_info_json(f, f.path) for f in files],
        }
    )
