"""Artifact routes of docs/rest-api.md: list, download and upload, streamed.

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

from heron.entities import wire
from heron.server import response_models as rs
from heron.server.responses import ServiceDep, json_response, no_content
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
