"""What MLflow routes take from the app besides the service."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Depends, Request

from heron.artifacts import ArtifactsMode
from heron.server.mlflow_compat.wire import ArtifactUris
from heron.server.responses import ANONYMOUS, USER_HEADER, server_state
from heron.services.logged_models import LoggedModelService


async def _artifact_uris(request: Request) -> ArtifactUris:
    settings = server_state(request).settings
    # In direct mode clients reach the store themselves, so they get its real URIs.
    return ArtifactUris(
        settings.default_artifact_root, proxied=settings.artifacts_mode is ArtifactsMode.PROXY
    )


UrisDep = Annotated[ArtifactUris, Depends(_artifact_uris)]


async def _logged_models(request: Request) -> LoggedModelService:
    return server_state(request).logged_models


async def _mlflow_actor(request: Request) -> str:
    """Who makes an MLflow request: Heron's user header if a proxy set it, else the user
    of MLflow's basic auth (MLFLOW_TRACKING_USERNAME), else anonymous."""
    user = request.headers.get(USER_HEADER, "").strip()
    if not user:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(credentials).decode().partition(":")[0].strip()
            except ValueError:
                user = ""
    return user[:256] if user else ANONYMOUS


LoggedModelsDep = Annotated[LoggedModelService, Depends(_logged_models)]
MlflowActorDep = Annotated[str, Depends(_mlflow_actor)]
