"""Mounts the static files and every page router onto the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wallet_demo import HERE, catalogue_page, front_page, i18n, offer_page, verify_page, wallet_pages


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(front_page.router)
    app.include_router(catalogue_page.router)
    app.include_router(verify_page.router)
    app.include_router(wallet_pages.router)
    app.include_router(offer_page.router)
    wallet_pages.install_handlers(app)
    app.add_middleware(i18n.LanguageCookie)
