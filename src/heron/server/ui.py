"""Serving the web UI: the static files `ui/` builds into ``ui_dist/`` (package data).

Only the UI's own paths are routed here (``/``, the client-side routes and ``/assets``),
so the REST API keeps its JSON 404 and 405 answers; a catch-all route would answer
``GET /api/v1/runs/search`` with the app instead of 405. Every UI response carries a
Content-Security-Policy that allows no inline script, no eval and nothing from another
origin, plus ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

UI_DIST = Path(__file__).with_name("ui_dist")

# blob: for images, which the UI fetches and shows with their real type (the API sends
# artifact bytes as application/octet-stream); everything else from this origin only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Vite names assets by content hash, so a cached copy is never stale.
ASSET_CACHE = "public, max-age=31536000, immutable"
# index.html names the current assets: always revalidate it.
INDEX_CACHE = "no-cache"

# The client-side routes of ui/src/router.ts: each loads index.html, and the app draws
# the view for the path.
CLIENT_ROUTES = (
    "/",
    "/experiments",
    "/runs/{rest:path}",
    "/compare",
    "/models",
    "/models/{rest:path}",
)

NOT_BUILT = (
    "Heron's web UI is not built in this installation. Build it with `make ui` "
    "(npm ci && npm run build in ui/), or install a package that includes it. "
    "The REST API is served under /api/v1."
)


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        if response.status_code == 200:
            response.headers["Cache-Control"] = ASSET_CACHE
        return response


def ui_routes(dist: Path = UI_DIST) -> list[BaseRoute]:
    """Routes that serve the UI built into ``dist``; a plain-text note when it is absent."""
    index = dist / "index.html"

    async def app_page(_request: Request) -> Response:
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, 404, headers=SECURITY_HEADERS)
        headers = {**SECURITY_HEADERS, "Cache-Control": INDEX_CACHE}
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=headers)

    routes: list[BaseRoute] = [
        Route(path, app_page, methods=["GET", "HEAD"], include_in_schema=False)
        for path in CLIENT_ROUTES
    ]
    if (dist / "assets").is_dir():
        routes.append(Mount("/assets", app=_Assets(directory=dist / "assets"), name="ui-assets"))
    return routes
