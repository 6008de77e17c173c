"""Artifact routes of docs/rest-api.md: list, download and upload, streamed; and, for
clients in direct mode, the server's mode and the records of what they wrote themselves.

Paths travel in ``?path=``, already percent-decoded by the framework, so every spelling of
a traversal ('..', '%2E%2E%2F', '..%5C') reaches clean_artifact_path in TrackingService
decoded, and is refused there with INVALID_ARGUMENT.
"""

from __future__ import annotations

import logging
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from heron.artifacts import ArtifactsMode, StoredArtifact
from heron.entities import wire
from heron.errors import InvalidArgument
from heron.server import response_models as rs
from heron.server.body_limit import LimitedBodyRoute
from heron.server.request_models import RecordArtifacts
from heron.server.responses import ServiceDep, json_response, no_content, server_state
from heron.server.streaming import body_reader, iter_chunks, size_of

logger = logging.getLogger("heron.server")

CHECKSUM_HEADER = "X-Heron-Sha256"

# No LimitedBodyRoute here: uploads stream to the artifact store at any size.
router = APIRouter(prefix="/api/v1", tags=["artifacts"], responses=rs.ERROR_RESPONSES)

ArtifactPath = Annotated[str, Query(description="a file path relative to the run's root")]

_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("/artifacts/config", response_model=rs.ArtifactsConfig)
def artifacts_config(request: Request) -> Response:
    """How clients move artifact bytes: through this server, or straight to the store."""
    return json_response({"mode": server_state(request).settings.artifacts_mode.value})


@router.get("/runs/{run_id}/artifacts", response_model=rs.FileList)
def list_artifacts(
    run_id: str,
    service: ServiceDep,
    path: Annotated[str | None, Query(description="a folder; the run's root if omitted")] = None,
) -> Response:
    files = service.list_artifacts(run_id, path or None)
    return json_response({"files": [wire.file_info_to_dict(f) for f in files]})


@router.get(
    "/runs/{run_id}/artifacts/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the bytes"}},
)
def download_artifact(run_id: str, path: ArtifactPath, service: ServiceDep) -> Response:
    # Opening raises NotFound / InvalidArgument before any byte is sent, so errors still
    # get a proper status; after that the file streams in 1 MiB chunks.
    handle = service.open_artifact(run_id, path)
    size = size_of(handle)
    headers = {"Content-Length": str(size)} if size is not None else {}
    checksum = service.artifact_checksum(run_id, path)
    if checksum is not None:
        # The client hashes what it receives and refuses the file on a mismatch.
        headers[CHECKSUM_HEADER] = checksum
    return StreamingResponse(
        iter_chunks(handle), media_type="application/octet-stream", headers=headers
    )


@router.put("/runs/{run_id}/artifacts/content", status_code=204, openapi_extra=_BINARY_BODY)
async def upload_artifact(
    run_id: str, path: ArtifactPath, request: Request, service: ServiceDep
) -> Response:
    reader = body_reader(request.stream())
    try:
        # The store is synchronous: it runs in a worker thread and pulls the body from
        # this event loop as it writes (see heron.server.streaming).
        await anyio.to_thread.run_sync(service.write_artifact, run_id, path, reader)
    except ClientDisconnect:
        # Nobody is left to answer; the store removed its partial temp file.
        logger.info("client went away while uploading %r to run %s", path, run_id)
        return Response(status_code=400)
    finally:
        reader.close()
    return no_content()


@router.get("/runs/{run_id}/artifacts/checksums", response_model=rs.ArtifactChecksums)
def artifact_checksums(
    run_id: str,
    service: ServiceDep,
    path: Annotated[str | None, Query(description="a file or folder; all if omitted")] = None,
) -> Response:
    """The sha256 recorded for each artifact file at or under ``path``, for clients that
    download straight from the store and verify what they got."""
    return json_response({"checksums": service.artifact_checksums(run_id, path or None)})


def record_artifacts(
    run_id: str, body: RecordArtifacts, request: Request, service: ServiceDep
) -> Response:
    """Record files a client wrote straight to the run's artifact store (direct mode)."""
    if server_state(request).settings.artifacts_mode is not ArtifactsMode.DIRECT:
        # In proxy mode every record comes from bytes this server stored and hashed itself.
        raise InvalidArgument(
            "this server proxies artifacts: upload them with PUT "
            f"/api/v1/runs/{run_id}/artifacts/content (start it with --artifacts-mode direct "
            "to let clients write to the store themselves)"
        )
    files = [StoredArtifact(f.path, f.size, f.sha256) for f in body.files]
    service.record_artifacts(run_id, files)
    return no_content()


# A JSON body, so the size limit of JSON routes applies (this router's uploads are unlimited).
router.add_api_route(
    "/runs/{run_id}/artifacts/checksums",
    record_artifacts,
    methods=["POST"],
    status_code=204,
    route_class_override=LimitedBodyRoute,
    responses={
        **rs.JSON_BODY_ERROR_RESPONSES,
        409: {"model": rs.ErrorBody, "description": "the stored file has another size"},
    },
)
