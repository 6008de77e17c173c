"""Multipart uploads through the artifact proxy, as MLflow's client does them.

With ``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true`` the client asks ``mpu/create`` for one
URL per part, PUTs the parts to those URLs in parallel, then calls ``mpu/complete`` (or
``mpu/abort``). MLflow's server hands out presigned object-store URLs; Heron hands out
URLs of its own part route, so this works on every artifact store. Parts are staged in
the artifact store under ``.mlflow-multipart/<upload_id>/`` (any server replica can take
any part), then streamed in order into the run's artifact through TrackingService.
"""

from __future__ import annotations

import io
import posixpath
import re
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

import anyio.to_thread
import fsspec
from fastapi import APIRouter, Request
from pydantic import Field
from starlette.responses import Response

from heron.artifacts import ArtifactRepository, artifact_repository
from heron.errors import InvalidArgument, NotFound
from heron.server.mlflow_compat.artifacts import locate, locate_logged_model
from heron.server.mlflow_compat.dependencies import LoggedModelsDep
from heron.server.mlflow_compat.errors import MlflowRoute, MlflowStreamRoute
from heron.server.request_models import _RequestBody
from heron.server.responses import ServiceDep, json_response
from heron.server.streaming import CHUNK_SIZE, body_reader
from heron.services import TrackingService
from heron.services.logged_models import LoggedModelService

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

STAGING_FOLDER = ".mlflow-multipart"
MAX_PARTS = 10_000  # as S3, which MLflow's part sizes are chosen for
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")

router = APIRouter(route_class=MlflowRoute, tags=["mlflow-artifacts"])
part_router = APIRouter(route_class=MlflowStreamRoute, tags=["mlflow-artifacts"])


class CreateUpload(_RequestBody):
    path: str  # the client's local file: its name is the artifact's name
    num_parts: int = Field(1, ge=1, le=MAX_PARTS)


class UploadedPart(_RequestBody):
    part_number: int
    etag: str | None = None
    url: str | None = None


class CompleteUpload(_RequestBody):
    path: str
    upload_id: str
    parts: list[UploadedPart]


class AbortUpload(_RequestBody):
    path: str
    upload_id: str


def _staging(service: TrackingService, upload_id: str) -> ArtifactRepository:
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise NotFound(f"no multipart upload {upload_id!r}: start one with mpu/create")
    return artifact_repository(f"{service.artifact_root}/{STAGING_FOLDER}/{upload_id}")


def _discard(repository: ArtifactRepository) -> None:
    filesystem, path = fsspec.core.url_to_fs(repository.root_uri)
    if filesystem.exists(path):
        filesystem.rm(path, recursive=True)


def _writer(
    service: TrackingService, logged_models: LoggedModelService, path: str, local_file: str
) -> tuple[Callable[[str, str, BinaryIO], object], str, str]:
    """Who owns the artifact being uploaded (a logged model or a run), where it goes, and
    how to write it: ``(write, owner, relative path)``."""
    artifact = posixpath.join(path, posixpath.basename(local_file.replace("\\", "/")))
    model = locate_logged_model(logged_models, artifact)
    if model is not None:
        return logged_models.write_artifact, *model
    return service.write_artifact, *locate(service, artifact)


@router.post("/mpu/create/{path:path}")
def create_upload(
    path: str,
    body: CreateUpload,
    request: Request,
    service: ServiceDep,
    logged_models: LoggedModelsDep,
) -> Response:
    # Refuse an upload that nothing could own, before any byte is sent.
    _writer(service, logged_models, path, body.path)
    upload_id = uuid.uuid4().hex
    base = str(request.url_for("upload_part", upload_id=upload_id, part_number="0"))[:-1]
    credentials = [
        {"url": f"{base}{number}", "part_number": number, "headers": {}}
        for number in range(1, body.num_parts + 1)
    ]
    return json_response({"upload_id": upload_id, "credentials": credentials})


@part_router.put("/mpu/parts/{upload_id}/{part_number}", name="upload_part")
async def upload_part(
    upload_id: str, part_number: int, request: Request, service: ServiceDep
) -> Response:
    if not 1 <= part_number <= MAX_PARTS:
        raise InvalidArgument(f"part_number must be 1 to {MAX_PARTS}, got {part_number}")
    staging = _staging(service, upload_id)
    reader = body_reader(request.stream())
    try:
        stored = await anyio.to_thread.run_sync(staging.write_stream, str(part_number), reader)
    finally:
        reader.close()
    # The client echoes the ETag back in mpu/complete, as it does for S3.
    return Response(status_code=200, headers={"ETag": f'"{stored.sha256}"'})


@router.post("/mpu/complete/{path:path}")
def complete_upload(
    path: str, body: CompleteUpload, service: ServiceDep, logged_models: LoggedModelsDep
) -> Response:
    write, owner, relative = _writer(service, logged_models, path, body.path)
    staging = _staging(service, body.upload_id)
    numbers = sorted(part.part_number for part in body.parts)
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        raise InvalidArgument("parts must be numbered 1, 2, ... without gaps or repeats")
    parts = _Concatenated(staging, [str(n) for n in numbers])
    stream = io.BufferedReader(parts, buffer_size=CHUNK_SIZE)
    try:
        write(owner, relative, stream)
    finally:
        stream.close()
    _discard(staging)
    return json_response({})


@router.post("/mpu/abort/{path:path}")
def abort_upload(path: str, body: AbortUpload, service: ServiceDep) -> Response:
    _discard(_staging(service, body.upload_id))
    return json_response({})


class _Concatenated(io.RawIOBase):
    """The staged parts, read one after the other as one stream."""

    def __init__(self, repository: ArtifactRepository, names: list[str]) -> None:
        super().__init__()
        self._handles: Iterator[BinaryIO] = (repository.open_read(n) for n in names)
        self._current: BinaryIO | None = next(self._handles, None)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        while self._current is not None:
            data = self._current.read(len(target))
            if data:
                target[: len(data)] = data
                return len(data)
            self._current.close()
            self._current = next(self._handles, None)
        return 0

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()
