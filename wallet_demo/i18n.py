"""The pages' languages: English, French and German, through gettext catalogues (GNU gettext PO files, Babel).

* The language of a request (``language(request)``): ``?lang=`` (the switch in every page's header), else the
  ``mc_lang`` cookie the switch sets, else the browser's ``Accept-Language`` (RFC 9110 §12.5.4, q-values
  honoured, ``fr-BE`` matching ``fr``), else English.
* The catalogues are ``wallet_demo/locales/<lang>/LC_MESSAGES/messages.po``, the only source: they are compiled in
  memory (Babel ``read_po`` → ``write_mo``) the first time a language is asked for, so no binary ``.mo`` file is
  kept in git to drift from its ``.po``, and nothing needs a build step (``dev.py``, the Docker image).
  tests/browser/test_languages.py checks that every message the templates and page modules mark is translated.
* Templates use Jinja2's i18n extension (``{{ _("…") }}``, new-style: ``_("… %(x)s", x=…)``); the
  translation is looked up from the ``request`` in the template context, so one environment serves every language.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context

from app.holder.pdf import CLDR_LOCALES, date_in_words

LANGUAGES = ("en", "fr", "de")
NAMES = {"en": "English", "fr": "Français", "de": "Deutsch"}
DEFAULT = "en"
COOKIE = "mc_lang"
LOCALES = Path(__file__).resolve().parent / "locales"
MAX_ACCEPT_LANGUAGE = 500  # characters read of the header: a longer one is read no further


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translated later"
    """Marks a message for extraction; it is translated where it is shown."""
    return message


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    if lang == DEFAULT or lang not in LANGUAGES:
        return NullTranslations()
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def from_accept_language(header: str | None) -> str | None:
    """The best of LANGUAGES for an Accept-Language value, or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header[:MAX_ACCEPT_LANGUAGE].split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().split("-")[0].lower()
        if q > 0 and primary in LANGUAGES:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else None


def language(request) -> str:
    cached = getattr(request.state, "lang", None)
    if cached:
        return cached
    chosen = request.query_params.get("lang")
    if chosen not in LANGUAGES:
        chosen = request.cookies.get(COOKIE)
    if chosen not in LANGUAGES:
        chosen = from_accept_language(request.headers.get("accept-language")) or DEFAULT
    request.state.lang = chosen
    return chosen


def gettext_for(request):
    return translations(language(request)).gettext


#: a date in words in a page's language: the one formatter, shared with the PDF (app/holder/pdf.py)
date_words = date_in_words


#: the EU's alpha-2 codes that are not ISO 3166-1 (Greece, the United Kingdom), as CLDR names them
_CLDR_TERRITORY = {"EL": "GR", "UK": "GB"}


def country_name(code: Any, lang: str, english: str | None = None) -> str | None:
    """A country by its name in ``lang`` (CLDR territory names, through Babel), else the EU vocabulary's English
    label ``english``, else the code as it is."""
    if not isinstance(code, str):
        return None
    if lang != DEFAULT and len(code) == 2 and code.isalpha():
        name = Locale.parse(CLDR_LOCALES.get(lang, lang)).territories.get(_CLDR_TERRITORY.get(code.upper(), code.upper()))
        if name:
            return name
    return english or code


def install(env) -> None:
    """Adds the i18n extension and the per-request callables to a Jinja2 environment."""
    env.add_extension("jinja2.ext.i18n")

    @pass_context
    def gettext(context, message: str) -> str:
        request = context.get("request")
        return translations(language(request)).gettext(message) if request is not None else message

    @pass_context
    def ngettext(context, singular: str, plural: str, n: int) -> str:
        request = context.get("request")
        return translations(language(request)).ngettext(singular, plural, n) if request is not None else (singular if n == 1 else plural)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)

    @pass_context
    def current_language(context) -> str:
        request = context.get("request")
        return language(request) if request is not None else DEFAULT

    @pass_context
    def in_words(context, value: Any, with_time: bool = False) -> str | None:
        return date_words(value, current_language(context), with_time=with_time)

    env.globals["current_language"] = current_language
    env.globals["LANGUAGES"] = NAMES
    env.filters["date_words"] = in_words


class LanguageCookie:
    """Pure ASGI middleware: a page asked for with ``?lang=xx`` remembers it (cookie ``mc_lang``, a year);
    every HTML page says it varies with Accept-Language and that cookie."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"")[:2000].decode("latin-1"))
        chosen = (query.get("lang") or [None])[0]

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if media.startswith(b"text/html"):
                    headers.append((b"vary", b"Accept-Language, Cookie"))
                    if chosen in LANGUAGES:
                        headers.append((b"set-cookie", f"{COOKIE}={chosen}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly".encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
