"""DCQL, the Digital Credentials Query Language (OpenID4VP 1.0 §6, §7): reading a query, and matching presented
credentials against it. Pure: no HTTP, no storage.

A query is ``{"credentials": [Credential Query …], "credential_sets"?: [Credential Set Query …]}`` (§6). A Credential
Query (§6.1) names an ``id``, a ``format`` (``dc+sd-jwt``, ``ldp_vc``, ``jwt_vc_json``: Appendix B), its ``meta``
(``vct_values`` for SD-JWT VC, B.3.5; ``type_values`` for W3C VCs, B.1.1), and optionally ``claims`` (§6.3) and
``claim_sets``. A claims path pointer (§7) walks the credential: a string names a key, an integer an array index,
``null`` every element. Without ``credential_sets`` every Credential Query is required (§6.4.2); with them, each
required set is satisfied by one of its options. ``validate`` refuses anything else with the pointer of the fault,
under limits on size; ``match`` says what a presented credential lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.errors import MalformedValueError

FORMATS = ("dc+sd-jwt", "ldp_vc", "jwt_vc_json")
#: Limits: a query a verifier sends a wallet is small; these bound what one request may store and cost.
MAX_CREDENTIALS = 8
MAX_CLAIMS = 32
MAX_PATH = 12
MAX_VALUES = 16
MAX_SETS = 8
MAX_STRING = 256
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # §6.1: alphanumeric, underscore or hyphen

#: Types a ``type_values`` entry may name by IRI (B.1.1: fully expanded types) or by the term the contexts give them.
TYPE_IRIS = {
    "VerifiableCredential": "https://www.w3.org/2018/credentials#VerifiableCredential",
    "OpenBadgeCredential": "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
    "AchievementCredential": "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
    "EuropeanDigitalCredential": "http://data.europa.eu/snb/model/elm/EuropeanDigitalCredential",
}
#: The W3C types of an EU micro-credential as microcred issues it: Open Badges 3.0 or the EDC.
MICROCREDENTIAL_TYPES = [[TYPE_IRIS["OpenBadgeCredential"]], [TYPE_IRIS["EuropeanDigitalCredential"]]]


def _fault(pointer: str, detail: str) -> MalformedValueError:
    return MalformedValueError(f"dcql_query{pointer}: {detail}", errors=[{"pointer": f"/dcql_query{pointer}", "detail": detail}])


def _strings(value: Any, pointer: str, *, limit: int = MAX_VALUES) -> list[str]:
    if not isinstance(value, list) or not 0 < len(value) <= limit or not all(isinstance(v, str) and 0 < len(v) <= MAX_STRING for v in value):
        raise _fault(pointer, f"a non-empty array of at most {limit} strings")
    return value


def _path(value: Any, pointer: str) -> list[str | int | None]:
    """§7: a non-empty array of strings, non-negative integers and nulls."""
    ok = isinstance(value, list) and 0 < len(value) <= MAX_PATH
    ok = ok and all(
        v is None or (isinstance(v, str) and 0 < len(v) <= MAX_STRING) or (isinstance(v, int) and not isinstance(v, bool) and v >= 0) for v in value
    )
    if not ok:
        raise _fault(pointer, f"a claims path pointer: a non-empty array (at most {MAX_PATH}) of strings, non-negative integers and nulls")
    return value


def _claims(value: Any, pointer: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_CLAIMS:
        raise _fault(pointer, f"a non-empty array of at most {MAX_CLAIMS} claims queries")
    out = []
    for i, claim in enumerate(value):
        where = f"{pointer}/{i}"
        if not isinstance(claim, dict) or set(claim) - {"id", "path", "values", "intent_to_retain"}:
            raise _fault(where, "a claims query has id, path and values only")
        if "id" in claim and (not isinstance(claim["id"], str) or not _ID.match(claim["id"])):
            raise _fault(f"{where}/id", "alphanumeric, underscore or hyphen, 1 to 64 characters")
        _path(claim.get("path"), f"{where}/path")
        if "values" in claim:
            values = claim["values"]
            if not isinstance(values, list) or not 0 < len(values) <= MAX_VALUES or not all(isinstance(v, (str, int, bool)) for v in values):
                raise _fault(f"{where}/values", "a non-empty array of strings, integers or booleans")
        out.append(claim)
    return out


def _credential_query(query: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(query, dict):
        raise _fault(pointer, "a Credential Query is an object")
    known = {"id", "format", "meta", "claims", "claim_sets", "multiple", "require_cryptographic_holder_binding", "trusted_authorities"}
    if unknown := sorted(set(query) - known):
        raise _fault(f"{pointer}/{unknown[0][:40]}", "not a Credential Query member (§6.1)")
    if not isinstance(query.get("id"), str) or not _ID.match(query["id"]):
        raise _fault(f"{pointer}/id", "required: alphanumeric, underscore or hyphen, 1 to 64 characters")
    if query.get("format") not in FORMATS:
        raise _fault(f"{pointer}/format", f"one of {', '.join(FORMATS)}")
    meta = query.get("meta")
    if not isinstance(meta, dict):
        raise _fault(f"{pointer}/meta", "required: an object (§6.1)")
    if query["format"] == "dc+sd-jwt":
        _strings(meta.get("vct_values"), f"{pointer}/meta/vct_values")
    else:
        types = meta.get("type_values")
        if not isinstance(types, list) or not 0 < len(types) <= MAX_VALUES:
            raise _fault(f"{pointer}/meta/type_values", "a non-empty array of arrays of type IRIs (B.1.1)")
        for i, alternative in enumerate(types):
            _strings(alternative, f"{pointer}/meta/type_values/{i}")
    for flag in ("multiple", "require_cryptographic_holder_binding"):
        if flag in query and not isinstance(query[flag], bool):
            raise _fault(f"{pointer}/{flag}", "a boolean")
    if query.get("trusted_authorities") is not None:
        raise _fault(f"{pointer}/trusted_authorities", "not supported by this verifier (its trust registry decides)")
    if "claims" in query:
        claims = _claims(query["claims"], f"{pointer}/claims")
        ids = [c.get("id") for c in claims]
        if "claim_sets" in query:
            if not all(ids) or len(set(ids)) != len(ids):
                raise _fault(f"{pointer}/claims", "with claim_sets every claims query has a distinct id (§6.1)")
            sets = query["claim_sets"]
            if not isinstance(sets, list) or not 0 < len(sets) <= MAX_SETS:
                raise _fault(f"{pointer}/claim_sets", f"a non-empty array of at most {MAX_SETS} arrays of claim ids")
            for i, option in enumerate(sets):
                if not all(c in ids for c in _strings(option, f"{pointer}/claim_sets/{i}", limit=MAX_CLAIMS)):
                    raise _fault(f"{pointer}/claim_sets/{i}", "names a claim id the claims do not have")
    elif "claim_sets" in query:
        raise _fault(f"{pointer}/claim_sets", "claim_sets without claims (§6.1)")
    return query


def validate(query: Any) -> dict[str, Any]:
    """The query if it is DCQL this verifier can evaluate (§6); ``MalformedValueError`` with the pointer otherwise."""
    if not isinstance(query, dict) or set(query) - {"credentials", "credential_sets"}:
        raise _fault("", "an object with credentials and, optionally, credential_sets (§6)")
    credentials = query.get("credentials")
    if not isinstance(credentials, list) or not 0 < len(credentials) <= MAX_CREDENTIALS:
        raise _fault("/credentials", f"a non-empty array of at most {MAX_CREDENTIALS} Credential Queries")
    ids = [_credential_query(q, f"/credentials/{i}")["id"] for i, q in enumerate(credentials)]
    if len(set(ids)) != len(ids):
        raise _fault("/credentials", "the Credential Queries' ids must be distinct (§6.1)")
    if "credential_sets" in query:
        sets = query["credential_sets"]
        if not isinstance(sets, list) or not 0 < len(sets) <= MAX_SETS:
            raise _fault("/credential_sets", f"a non-empty array of at most {MAX_SETS} Credential Set Queries")
        for i, entry in enumerate(sets):
            where = f"/credential_sets/{i}"
            if not isinstance(entry, dict) or set(entry) - {"options", "required"}:
                raise _fault(where, "a Credential Set Query has options and required (§6.2)")
            if "required" in entry and not isinstance(entry["required"], bool):
                raise _fault(f"{where}/required", "a boolean")
            options = entry.get("options")
            if not isinstance(options, list) or not 0 < len(options) <= MAX_SETS:
                raise _fault(f"{where}/options", f"a non-empty array of at most {MAX_SETS} arrays of credential query ids")
            for j, option in enumerate(options):
                if not all(c in ids for c in _strings(option, f"{where}/options/{j}", limit=MAX_CREDENTIALS)):
                    raise _fault(f"{where}/options/{j}", "names a credential query id the query does not have")
    return query


def default_query(vct: str, claims: list[str] | None = None) -> dict[str, Any]:
    """One EU micro-credential in any format microcred reads: an SD-JWT VC of this service's ``vct`` (disclosing
    ``claims`` when named), an Open Badges 3.0 or EDC credential with Data Integrity, or a VC-JOSE one."""
    sd_jwt: dict[str, Any] = {"id": "microcredential_sd_jwt", "format": "dc+sd-jwt", "meta": {"vct_values": [vct]}}
    if claims:
        sd_jwt["claims"] = [{"path": [name]} for name in claims]
    return {
        "credentials": [
            sd_jwt,
            {"id": "microcredential_ldp", "format": "ldp_vc", "meta": {"type_values": MICROCREDENTIAL_TYPES}},
            {"id": "microcredential_jwt", "format": "jwt_vc_json", "meta": {"type_values": MICROCREDENTIAL_TYPES}},
        ],
        "credential_sets": [{"options": [["microcredential_sd_jwt"], ["microcredential_ldp"], ["microcredential_jwt"]], "required": True}],
    }


def select(node: Any, path: list[str | int | None]) -> list[Any]:
    """§7.1 claims path pointer processing: the elements ``path`` selects (empty when it selects nothing)."""
    current = [node]
    for step in path:
        nxt: list[Any] = []
        for item in current:
            if step is None and isinstance(item, list):
                nxt.extend(item)
            elif isinstance(step, str) and isinstance(item, dict) and step in item:
                nxt.append(item[step])
            elif isinstance(step, int) and isinstance(item, list) and step < len(item):
                nxt.append(item[step])
        current = nxt
    return current


def _expanded(types: Any) -> set[str]:
    names = types if isinstance(types, list) else [types]
    return {n for n in names if isinstance(n, str)} | {TYPE_IRIS[n] for n in names if isinstance(n, str) and n in TYPE_IRIS}


@dataclass
class Match:
    """Whether one presented credential answers one Credential Query; ``missing``: what it lacks, in words."""

    query_id: str
    ok: bool
    missing: list[str] = field(default_factory=list)


def _claim_present(claims: dict[str, Any], claim: dict[str, Any]) -> bool:
    found = select(claims, claim["path"])
    if not found:
        return False
    return "values" not in claim or any(v in claim["values"] for v in found)


def match(query: dict[str, Any], fmt: str, credential: dict[str, Any] | None) -> Match:
    """Does ``credential`` (an SD-JWT VC's processed claims, or a W3C credential) presented as ``fmt`` answer the
    Credential Query ``query`` (§6.1, §6.3, §6.4.1)? Its format, its type (vct or type_values), and its claims."""
    out = Match(query["id"], False)
    if fmt != query["format"]:
        out.missing.append(f"the query asks for {query['format']}, not {fmt}")
        return out
    if not isinstance(credential, dict):
        out.missing.append("the credential could not be read")
        return out
    meta = query["meta"]
    if fmt == "dc+sd-jwt":
        if credential.get("vct") not in meta["vct_values"]:
            out.missing.append(f"vct {str(credential.get('vct'))[:100]} is not one the query asks for")
    elif not any(set(alternative) <= _expanded(credential.get("type")) for alternative in meta["type_values"]):
        out.missing.append("the credential's type is none of the query's type_values")
    claims = query.get("claims") or []
    if claims:
        present = {i for i, c in enumerate(claims) if _claim_present(credential, c)}
        if "claim_sets" in query:
            ids = [c["id"] for c in claims]
            if not any(all(ids.index(c) in present for c in option) for option in query["claim_sets"]):
                out.missing.append("none of the query's claim_sets is disclosed in full")
        else:
            out.missing.extend(
                f"claim {'/'.join('*' if p is None else str(p) for p in c['path'])} not disclosed" for i, c in enumerate(claims) if i not in present
            )
    out.ok = not out.missing
    return out


def satisfied(query: dict[str, Any], answered: set[str]) -> list[str]:
    """§6.4.2: what the set of answered Credential Query ids leaves unmet (empty: the query is satisfied)."""
    sets = query.get("credential_sets")
    if not sets:
        return [f"credential query {q['id']} unanswered" for q in query["credentials"] if q["id"] not in answered]
    unmet = []
    for i, entry in enumerate(sets):
        if entry.get("required", True) and not any(set(option) <= answered for option in entry["options"]):
            unmet.append(f"credential set {i}: none of its options answered ({' | '.join('+'.join(o) for o in entry['options'])})")
    return unmet
