"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) with no internet: their scripts and styles are served from a
package (PyPI ``fastapi-offline``, used only for its bundled ``static/`` assets), never from a CDN.

FastAPI's own pages load Swagger UI and ReDoc from jsDelivr; a deployment without outbound access (or a
strict Content-Security-Policy) would show a blank page. ``install(app)`` is called by ``app.main`` on an app
built with ``docs_url=None, redoc_url=None``.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.staticfiles import StaticFiles

ASSETS = "/docs-assets"
#: The documentation pages (``app/api/security_headers.py`` gives them their own policy: same-origin assets).
PAGES = frozenset({"/docs", "/redoc"})


def asset_dir() -> str:
    return str(files("fastapi_offline") / "static")


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=asset_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc():
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API reference",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
