"""MLflow 3's capability probe (``/api/3.0/mlflow/server-info``).

MLflow's client asks it before uploading a file of at least
``MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE`` (500 MB by default) through the artifact
proxy: with ``multipart_uploads_enabled`` it uploads in parts (``multipart``), in parallel,
without the user setting ``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD``. Heron serves the part
routes on every artifact store, so it says yes whenever it proxies artifacts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heron.artifacts import ArtifactsMode
from heron.server.mlflow_compat.errors import MlflowRoute
from heron.server.responses import json_response, server_state

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])


@router.get("/server-info")
async def server_info(request: Request) -> Response:
    proxied = server_state(request).settings.artifacts_mode is ArtifactsMode.PROXY
    return json_response(
        {
            # MLflow's own store types ("SqlStore", "FileStore"); Heron's is neither.
            "store_type": None,
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": proxied,
            # Downloads stream from the proxy; presigned ranged downloads are not served.
            "multipart_downloads_enabled": False,
            # Nor are presigned upload URLs (artifacts/presigned-upload-url).
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "features_enabled": {"gateway": False},
        }
    )
