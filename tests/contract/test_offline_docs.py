"""/docs and /redoc load with no internet: every script, style and image they reference is same-origin and
served by the service (app/api/docs.py), none from a CDN."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize("page, needed", [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_docs_pages_reference_only_served_same_origin_assets(live, page, needed):
    r = httpx.get(live.url + page, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']|spec-url=["']([^"']+)["']""", r.text)
    urls = [next(u for u in group if u) for group in refs]
    assert any(u.endswith(needed) for u in urls), urls
    assert "cdn" not in r.text.lower() and "fonts.googleapis" not in r.text
    # The page's Content-Security-Policy allows this origin only: a CDN asset would not even load.
    assert "https:" not in r.headers["content-security-policy"] and "script-src 'self'" in r.headers["content-security-policy"]
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} references {url}, not same-origin"
        asset = httpx.get(live.url + url, timeout=30)
        assert asset.status_code == 200 and asset.content, url
    assert not re.search(r"https?://", " ".join(urls))
