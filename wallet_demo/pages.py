"""Mounts the static files and every page router onto the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wallet_demo import HERE


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    from wallet_demo import verify_page

    app.include_router(verify_page.router)

    from wallet_demo import wallet

    app.include_router(wallet.router)
