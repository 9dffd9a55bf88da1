"""The demo wallet's way to this service's Credential Issuers (an ``app.holder.oid4vci.IssuerTransport``).

The demo wallet runs inside the service it receives from, so an OpenID4VCI request to the service's own base URL is
answered by the same ``Oid4vci`` method its HTTP route calls (app/api/oid4vci.py), with no network hop and no
loopback allowance in the guarded fetcher: the OpenID4VP holder answers this service's verifier the same way.
Each answer goes through the JSON text the route would send, so the holder reads exactly what a remote wallet reads.
An offer, metadata or endpoint on any other host is refused with the reason (this demo wallet holds no credentials
of other issuers; a real wallet is any OpenID4VCI wallet).
"""

from __future__ import annotations

import re
from typing import Any

from app import strict_json
from app.errors import MalformedValueError, NotFoundError
from app.holder.oid4vci import IssuerRefused
from app.issuance.oid4vci import DpopContext, OAuthError, Oid4vci

_ISSUER = r"/issuers/(?P<slug>[A-Za-z0-9._-]{1,64})"
_GET = {
    "issuer_metadata": re.compile(r"/\.well-known/openid-credential-issuer" + _ISSUER),
    "authorization_server_metadata": re.compile(r"/\.well-known/oauth-authorization-server" + _ISSUER),
    "credential_offer": re.compile(_ISSUER + r"/credential-offers/(?P<offer>[A-Za-z0-9_-]{1,64})"),
}
_POST = {name: re.compile(_ISSUER + "/" + name) for name in ("token", "nonce", "credential")}


class SameServiceIssuers:
    """``get`` / ``post`` of the holder, for URLs under this service's base URL only."""

    def __init__(self, service: Oid4vci, base_url: str):
        self.service = service
        self.base = base_url.rstrip("/")

    def _path(self, url: str) -> str:
        if not isinstance(url, str) or len(url) > 2048 or not url.startswith(self.base + "/"):
            raise MalformedValueError("this demo wallet receives from the issuers of this service only", code="OID4VCI_FOREIGN_ISSUER")
        return url[len(self.base) :].split("?", 1)[0]

    @staticmethod
    def _wire(value: Any) -> Any:
        """The answer as the route's JSON text would carry it."""
        return strict_json.loads(strict_json.dumps(value))

    def get(self, url: str) -> Any:
        path = self._path(url)
        try:
            for name, pattern in _GET.items():
                m = pattern.fullmatch(path)
                if m and name == "credential_offer":
                    return self._wire(self.service.credential_offer(m["slug"], m["offer"]))
                if m:
                    return self._wire(getattr(self.service, name)(m["slug"]))
        except NotFoundError as exc:
            raise IssuerRefused("not_found", exc.detail, 404) from None
        raise IssuerRefused("not_found", "no such issuer document", 404)

    def post(self, url: str, *, form: dict[str, str] | None = None, body: bytes | None = None, authorization: str | None = None) -> Any:
        path = self._path(url)
        try:
            if m := _POST["token"].fullmatch(path):
                return self._wire(self.service.token(m["slug"], dict(form or {}), DpopContext(None)))
            if m := _POST["nonce"].fullmatch(path):
                return self._wire(self.service.nonce(m["slug"]))
            if m := _POST["credential"].fullmatch(path):
                redeemed = self.service.credential(m["slug"], authorization, DpopContext(None), body or b"")
                return self._wire({"credentials": [{"credential": c} for c in redeemed.credentials]})
        except OAuthError as exc:
            raise IssuerRefused(exc.error, exc.description, exc.status) from None
        except NotFoundError as exc:
            raise IssuerRefused("not_found", exc.detail, 404) from None
        raise IssuerRefused("not_found", "no such endpoint", 404)
