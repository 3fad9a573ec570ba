"""API docs of a generated server: its role's OpenAPI document, Swagger UI and ReDoc, all offline.

Static: copied verbatim into every generated server package; names no OCPI version's models.

* ``/openapi.json``: the role's OpenAPI document, shipped beside this module as ``openapi.json``
  (the same document as ``generated/<version>/openapi/roles/<role>.yaml``), with ``servers`` set to
  this server's own version URL so that "Try it out" calls it.
* ``/docs``: Swagger UI; ``/redoc``: ReDoc. Their JavaScript and CSS come from the files of the
  ``fastapi-offline`` package, served under ``/docs/assets/``; no page loads anything from elsewhere.

The pages need no token and sit outside the OCPI base path, so the OCPI routes, their token checks
and their headers middleware never see them. The ``TokenAuth`` scheme works from "Try it out": enter
the token, with or without the ``Token`` prefix (the page adds it when missing).
``ServerSettings.docs`` (``OCPI_DOCS=0``) turns all of it off.
"""

from __future__ import annotations

import html
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response

from ._settings import ServerSettings

__all__ = ["ASSETS", "DOCUMENT_FILE", "assets_folder", "install_docs", "served_document"]

logger = logging.getLogger("ocpi.server")

#: The role's OpenAPI document, planned into the generated package beside this module.
DOCUMENT_FILE = Path(__file__).with_name("openapi.json")
#: The asset files the pages use, from ``fastapi_offline/static``.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}

_SWAGGER = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - Swagger UI</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  requestInterceptor: function (request) {{
    var auth = request.headers && request.headers.Authorization;
    if (auth && !/^Token /.test(auth)) {{ request.headers.Authorization = "Token " + auth; }}
    return request;
  }}
}});
</script>
</body>
</html>
"""

_REDOC = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - ReDoc</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<redoc spec-url="/openapi.json" hide-download-button="false"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script>
</body>
</html>
"""


def assets_folder() -> Path | None:
    """The folder of Swagger UI's and ReDoc's files (``fastapi_offline/static``), or None when that
    package is not installed."""
    found = importlib.util.find_spec("fastapi_offline")
    if found is None or not found.submodule_search_locations:
        return None
    folder = Path(next(iter(found.submodule_search_locations))) / "static"
    return folder if all((folder / name).is_file() for name in ASSETS) else None


def served_document(document: dict[str, Any], settings: ServerSettings, version: str) -> dict[str, Any]:
    """``document`` as this server serves it: ``servers`` is this server's own version URL."""
    url = f"{settings.base_url}/{version}"
    return {**document, "servers": [{"url": url, "description": "This server."}]}


def install_docs(app: FastAPI, settings: ServerSettings, version: str, document: dict[str, Any] | None = None) -> bool:
    """Serve ``/openapi.json``, ``/docs`` and ``/redoc`` unless ``settings.docs`` is off.

    ``document`` defaults to the ``openapi.json`` beside this module; without one (the runtime's
    own source tree) nothing is installed. Returns whether the routes were added.
    """
    if not settings.docs:
        return False
    if document is None:
        if not DOCUMENT_FILE.is_file():
            return False
        document = json.loads(DOCUMENT_FILE.read_text(encoding="utf-8"))
    served = served_document(document, settings, version)
    title = html.escape(str(served.get("info", {}).get("title", "OCPI server")))
    body = json.dumps(served, ensure_ascii=False).encode("utf-8")
    folder = assets_folder()
    if folder is None:
        logger.warning("API docs pages are off: install fastapi-offline for Swagger UI's and ReDoc's files")

    async def openapi_json(request: Request) -> Response:
        return Response(body, media_type="application/json")

    def page(html: str) -> Any:
        async def endpoint(request: Request) -> Response:
            if folder is None:
                return PlainTextResponse("API docs need the fastapi-offline package", status_code=503)
            return HTMLResponse(html)

        return endpoint

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if folder is None or name not in ASSETS:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return FileResponse(folder / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})

    app.add_route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)
    app.add_route("/docs", page(_SWAGGER.format(title=title)), methods=["GET"], include_in_schema=False)
    app.add_route("/redoc", page(_REDOC.format(title=title)), methods=["GET"], include_in_schema=False)
    app.add_route("/docs/assets/{name}", asset, methods=["GET"], include_in_schema=False)
    return True
