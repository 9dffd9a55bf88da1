"""The pages people use: the employer's verification page and the learner's demo wallet.

Server-rendered with Jinja2 (autoescaping on: everything that comes from a credential is escaped, and
no page runs a script taken from a credential). Shared pieces live here: the template environment
and the base layout; each page family has its own router module.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.autoescape = True


def localized(value, lang: str | None = None) -> str:
    """A language map (or plain string) shown in ``lang``, else English, else its first language."""
    if isinstance(value, dict):
        for key in (lang, "en"):
            if key and isinstance(value.get(key), str):
                return value[key]
        for v in value.values():
            if isinstance(v, str):
                return v
            if isinstance(v, list) and v and isinstance(v[0], str):
                return v[0]
        return ""
    if isinstance(value, list):
        return ", ".join(localized(v, lang) for v in value)
    return "" if value is None else str(value)


templates.env.filters["loc"] = localized

from wallet_demo import i18n  # noqa: E402 - after the environment it configures

i18n.install(templates.env)
