"""The status check: Bitstring Status List v1.0 §3.2 (Validate Algorithm) against fetched lists, and for SD-JWT VCs
the Token Status List (draft-ietf-oauth-status-list §8.3) against fetched Status List Tokens.

Each entry's status list credential is fetched through the guarded fetcher, must itself verify (proof
and issuer binding, by the credential's own issuer) and be within its validity period; then the bit is
read. A list that cannot be fetched or checked makes the check *indeterminate*, never "not revoked"
(security-notes §12); so does an entry of a status method this verifier does not read (VC 2.0 §4.10 lets a
credential name any, e.g. ``CredentialStatusList2017``): it is reported as not checked, with its type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from app import strict_json
from app.errors import MicrocredError
from app.net import Fetcher, TTLCache
from app.proofs import ProofEngine
from app.status import token_status_list as tsl
from app.status.bitstring import BITSTRING_ENTRY, SL2021_ENTRY, read_status
from app.verification.report import Check, Report
from app.xsd import parse_datetime_stamp

#: Clock skew tolerated on a status list's validFrom (as the verifier tolerates on a credential's).
LEEWAY = timedelta(seconds=60)


def check_list_validity(document: dict[str, Any], now: datetime) -> None:
    """Bitstring Status List §3.2 step 4 ("validate … the validity period"): the list credential must be
    within its validFrom/validUntil (VC 1.1: issuanceDate/expirationDate); STATUS_VERIFICATION_ERROR."""
    try:
        start = document.get("validFrom", document.get("issuanceDate"))
        end = document.get("validUntil", document.get("expirationDate"))
        start_at = parse_datetime_stamp(start, field="status list validFrom") if start is not None else None
        end_at = parse_datetime_stamp(end, field="status list validUntil") if end is not None else None
    except MicrocredError as exc:
        raise MicrocredError(exc.detail, code="STATUS_VERIFICATION_ERROR") from None
    if start_at is not None and start_at > now + LEEWAY:
        raise MicrocredError("the status list is not valid yet (validFrom is in the future)", code="STATUS_VERIFICATION_ERROR")
    if end_at is not None and end_at < now:
        raise MicrocredError("the status list has expired", code="STATUS_VERIFICATION_ERROR")


class StatusChecker:
    def __init__(
        self, fetcher: Fetcher, engine: ProofEngine, *, cache_seconds: float, clock: Callable[[], datetime], max_bytes: int, list_max_bytes: int = 16_777_216
    ):
        self.list_max_bytes = list_max_bytes
        self.fetcher = fetcher
        self.engine = engine
        self.clock = clock
        self.max_bytes = max_bytes
        self.cache: TTLCache[dict] | None = TTLCache(cache_seconds, 512) if cache_seconds > 0 else None
        self._own: dict[str, tuple[bytes, dict[str, Any]]] = {}
        #: this service's own Status List Tokens as last verified, by (uri, issuer): their bytes and the result
        self._own_tokens: dict[tuple[str, str | None], tuple[bytes, tsl.StatusListToken]] = {}

    #: status lists this service publishes itself are read from its own data (set by the app:
    #: ``StatusLists.local_credential``), always current and never over the network; ``None`` otherwise.
    local: Callable[[str], bytes | None] | None = None
    #: the same for the Status List Tokens this service publishes (``StatusLists.local_token``)
    local_token: Callable[[str], bytes | None] | None = None

    def _status_token(self, uri: str, issuer: str | None) -> tsl.StatusListToken:
        """§8.3 steps 2–3: the Status List Token at ``uri`` (this service's own read from its data), verified."""
        own = self.local_token(uri) if self.local_token is not None else None
        if own is not None:
            seen = self._own_tokens.get((uri, issuer))
            if seen is not None and seen[0] == own:
                # The same signed bytes as last time, for the same issuer: their signature, kid, iss and sub were
                # checked then (read_token); only the expiry depends on the time. A changed list is new bytes.
                tsl.check_expiry(seen[1].claims, self.clock())
                return seen[1]
        cached = self.cache.get("tsl " + uri) if own is None and self.cache is not None else None
        if cached is not None:
            return cached  # type: ignore[return-value]
        content = own if own is not None else self.fetcher.fetch(uri, accept=tsl.MEDIA_TYPE, max_bytes=self.max_bytes).content
        try:
            text = content.decode("ascii")
        except UnicodeDecodeError:
            raise MicrocredError("the Status List Token is not a compact JWT", code="STATUS_VERIFICATION_ERROR") from None
        token = tsl.read_token(text, self.engine.resolve_method, uri=uri, now=self.clock(), iss=issuer, max_bytes=self.list_max_bytes)
        if own is not None:
            self._own_tokens[(uri, issuer)] = (own, token)
        elif self.cache is not None:
            self.cache.put("tsl " + uri, token)  # type: ignore[arg-type]
        return token

    def token_status(self, status: Any, issuer: str | None) -> Check:
        """Token Status List §8.3: the status of an SD-JWT VC's ``status.status_list``; 0 VALID passes, 1 INVALID
        (revoked) and 2 SUSPENDED fail, a list that cannot be fetched or checked is indeterminate (never "valid")."""
        try:
            idx, uri = tsl.reference(status)
        except MicrocredError as exc:
            return Check("status", "failed", exc.detail, "MALFORMED_VALUE_ERROR")
        try:
            value = self._status_token(uri, issuer).status(idx)
        except MicrocredError as exc:
            code = exc.code if exc.code.startswith("STATUS_") else "STATUS_RETRIEVAL_ERROR"
            return Check("status", "indeterminate", f"the status could not be checked: {exc.detail}", code, {"uri": uri[:300]})
        if value == tsl.VALID:
            return Check("status", "passed", "not revoked nor suspended (Token Status List, checked just now)", details={"idx": idx, "status": value})
        if value == tsl.INVALID:
            return Check("status", "failed", "the credential has been revoked by its issuer", "STATUS_REVOKED", {"idx": idx, "status": value})
        if value == tsl.SUSPENDED:
            return Check("status", "failed", "the credential has been suspended by its issuer", "STATUS_SUSPENDED", {"idx": idx, "status": value})
        return Check("status", "failed", f"the credential's status is {value} (not VALID)", "STATUS_FLAGGED", {"idx": idx, "status": value})

    def _list_credential(self, url: str, issuer: str | None) -> dict[str, Any]:
        own = self.local(url) if self.local is not None else None
        if own is not None:
            seen = self._own.get(url)
            if seen is not None and seen[0] == own:  # the same signed bytes as last time: already checked
                return seen[1]
        else:
            # ``is not None``: an empty TTLCache is falsy (it has __len__), which silently disabled caching.
            cached = self.cache.get(url) if self.cache is not None else None
            if cached is not None:
                return cached
        content = own if own is not None else self.fetcher.fetch(url, accept="application/vc+ld+json, application/json", max_bytes=self.max_bytes).content
        document = strict_json.loads(content, max_bytes=self.max_bytes)
        if not isinstance(document, dict):
            raise MicrocredError("the status list is not a JSON object", code="STATUS_VERIFICATION_ERROR")
        result = self.engine.verify(document, expected_purpose="assertionMethod")
        if not result.verified:
            raise MicrocredError(f"the status list's proof does not verify: {result.reason}", code="STATUS_VERIFICATION_ERROR")
        list_issuer = document.get("issuer")
        list_issuer = list_issuer.get("id") if isinstance(list_issuer, dict) else list_issuer
        if list_issuer != issuer or any(p.controller != issuer or not p.purpose_authorized for p in result.proofs):
            raise MicrocredError("the status list is not signed by the credential's issuer", code="STATUS_VERIFICATION_ERROR")
        check_list_validity(document, self.clock())
        if own is not None:
            self._own[url] = (own, document)
        elif self.cache is not None:
            self.cache.put(url, document)
        return document

    def __call__(self, credential: dict[str, Any], report: Report) -> Check:
        raw = credential.get("credentialStatus")
        entries = raw if isinstance(raw, list) else [raw]
        found: list[str] = []
        unread: list[Check] = []
        for entry in entries:
            if not isinstance(entry, dict):
                return Check("status", "failed", "credentialStatus entries must be objects", "MALFORMED_VALUE_ERROR")
            kinds = entry.get("type") if isinstance(entry.get("type"), list) else [entry.get("type")]
            if BITSTRING_ENTRY not in kinds and SL2021_ENTRY not in kinds:
                method = ", ".join(str(k)[:60] for k in kinds)
                unread.append(
                    Check(
                        "status",
                        "indeterminate",
                        f"status method {method} is not one this verifier reads: not checked",
                        "STATUS_VERIFICATION_ERROR",
                        {"type": method},
                    )
                )
                continue
            url = entry.get("statusListCredential")
            try:
                if not isinstance(url, str):
                    raise MicrocredError("the status entry names no statusListCredential", code="STATUS_VERIFICATION_ERROR")
                listed = self._list_credential(url, report.issuer)
                result = read_status(listed, entry)
            except MicrocredError as exc:
                code = exc.code if exc.code.startswith("STATUS_") or exc.code == "RANGE_ERROR" else "STATUS_RETRIEVAL_ERROR"
                unread.append(
                    Check("status", "indeterminate", f"the status could not be checked: {exc.detail}", code, {"statusListCredential": str(url)[:300]})
                )
                continue
            if result.status:
                word = {"revocation": "revoked", "suspension": "suspended"}.get(result.purpose, f"flagged ({result.purpose})")
                return Check(
                    "status",
                    "failed",
                    f"the credential has been {word} by its issuer",
                    "STATUS_" + word.upper() if word in ("revoked", "suspended") else "STATUS_FLAGGED",
                    {"purpose": result.purpose},
                )
            found.append(result.purpose)
        if unread:  # a set bit anywhere wins (above); otherwise one entry not read makes the status unknown
            first = unread[0]
            if found:
                first.reason += f" (read: not {' nor '.join(_words(found))})"
            return first
        return Check("status", "passed", f"not {' nor '.join(_words(found))} (checked just now)", details={"purposes": found})


def _words(purposes: list[str]) -> list[str]:
    return ["revoked" if p == "revocation" else "suspended" if p == "suspension" else p for p in purposes]
