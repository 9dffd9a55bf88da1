"""The verification pipeline: parse → contexts → proof → issuer binding → validity → status → trust → EU.

Each check is a function returning a ``Check``; the pipeline is a list of them (architecture.md), so a
new check is one function and one line. Nothing here raises for a bad credential: a credential that
fails is a report with reasons. Only input that is not a credential at all gives ``NotACredential``.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app import strict_json
from app.credentials import mandatory_score, sd_jwt_vc
from app.errors import MicrocredError
from app.jsonld import ContextLoader, to_quads
from app.jsonld.embedded import check_contexts
from app.proofs import ProofEngine, sd_jwt, vc_jose
from app.proofs.cryptosuites import suite_for_proof
from app.vcdm import VC1, VC2, issuer_id, types
from app.verification.composite import composite_check, embedded_components, presented_of
from app.verification.jades import is_jades, jades_report
from app.verification.report import Check, Report
from app.verification.well_formed import credential_problems
from app.xsd import parse_datetime_stamp

LEEWAY = timedelta(seconds=60)
#: Most credentials of one presentation that are verified: each costs a verification of its own, so the
#: count bounds what one request can cost (issue 13); a wallet presents a few at a time.
MAX_PRESENTATION_CREDENTIALS = 32
#: The longest base64 data: URL payload of an enveloped credential: the base64 of a 1 MiB JWT.
MAX_ENVELOPE_CHARS = 4 * (1_048_576 // 3 + 1)


class NotACredential(MicrocredError):
    """The input is not a credential or presentation at all (the VC API answers 400)."""

    code = "PARSING_ERROR"
    status = 400
    title = "Not a verifiable credential"


StatusCheck = Callable[[dict[str, Any], Report], Check]
TrustCheck = Callable[[str | None], Check]
CompletenessCheck = Callable[[dict[str, Any]], Check]


@dataclass
class Verifier:
    loader: ContextLoader
    engine: ProofEngine
    resolve_method: Callable[[str], tuple[dict, dict]]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    status_check: StatusCheck | None = None
    trust_check: TrustCheck | None = None
    completeness_check: CompletenessCheck | None = None
    #: the SD-JWT VC Type Metadata this service serves itself, by vct (``None``: not one of ours); remote type
    #: metadata is not fetched
    type_metadata: Callable[[str], bytes | None] | None = None
    #: the pinned EU trusted-list snapshot for JAdES seals (``trusted_lists.SnapshotSource.current``; ``None``: none)
    trusted_lists: Callable[[], Any] | None = None

    # -- entry points

    def parse(self, raw: bytes | str | dict | list, *, max_bytes: int = 1_048_576, max_depth: int = 64) -> tuple[str, Any]:
        """``("jwt", token)`` or ``("json", document)``, or ``NotACredential``."""
        if isinstance(raw, (dict, list)):
            return "json", raw
        if not isinstance(raw, (bytes, str)):
            # a number, true or null where a credential was expected (a list of components, say): refused here,
            # for every caller, rather than failing on the first string operation
            raise NotACredential("a credential is a JSON object or a compact JWS / SD-JWT string", code="NOT_A_CREDENTIAL")
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        stripped = text.strip()
        if stripped.startswith("{") or stripped.startswith("["):
            try:
                return "json", strict_json.loads(raw if isinstance(raw, bytes) else raw.encode(), max_bytes=max_bytes, max_depth=max_depth)
            except MicrocredError as exc:
                raise NotACredential(exc.detail, code=exc.code) from None
        if "~" in stripped and stripped.split("~", 1)[0].count(".") == 2 and len(stripped) <= max_bytes:
            return "sd-jwt", stripped
        if stripped.count(".") in (2, 4) and all(stripped.split(".")[:2]) and len(stripped) <= max_bytes:
            return "jwt", stripped
        raise NotACredential("the input is neither a JSON credential nor a compact JWS (vc+jwt)")

    def verify(self, raw, *, proof_only: bool = False, challenge: str | None = None, domain: str | None = None, presentation: bool | None = None) -> Report:
        kind, value = self.parse(raw)
        if kind == "sd-jwt":
            return self.verify_sd_jwt(value, proof_only=proof_only, nonce=challenge, aud=domain)
        if kind == "jwt":
            return self.verify_jwt(value, proof_only=proof_only)
        if isinstance(value, dict) and "verifiableCredential" in value and "type" not in value and len(value) <= 2:
            value = value["verifiableCredential"]  # the VC API request shape
        if isinstance(value, dict) and "verifiablePresentation" in value and "type" not in value:
            value = value["verifiablePresentation"]
        if isinstance(value, str):
            return self.verify_token(value, proof_only=proof_only)
        if not isinstance(value, dict):
            raise NotACredential("a credential is a JSON object")
        if is_jades(value):
            report = jades_report(value, lambda credential: self._well_formed(credential, expand=True), now=self.clock(), trusted_lists=self.trusted_lists)
            if report.credential is not None and not proof_only:
                self._rest(report.credential, report)  # validity, status, trust and completeness as for any credential
            return report
        kinds = types(value)
        if "VerifiablePresentation" in kinds or presentation:
            return self.verify_presentation(value, challenge=challenge, domain=domain, proof_only=proof_only)
        if "EnvelopedVerifiableCredential" in kinds:
            return self.verify_enveloped_credential(value, proof_only=proof_only)
        if "VerifiableCredential" not in kinds:
            raise NotACredential("the document's type does not include VerifiableCredential or VerifiablePresentation")
        return self.verify_credential(value, proof_only=proof_only)

    def verify_credential(self, credential: dict[str, Any], *, proof_only: bool = False) -> Report:
        report = Report("credential", "data-integrity", credential=credential, issuer=issuer_id(credential))
        proofs = credential.get("proof")
        proof_list = proofs if isinstance(proofs, list) else [proofs] if proofs else []
        # RDFC suites already expand the document and refuse data loss while canonicalizing; other suites
        # (JCS) never look at the RDF, so the contexts check expands the document itself.
        rdfc_only = bool(proof_list) and all(isinstance(p, dict) and (s := suite_for_proof(p)) is not None and s.expands_rdf for p in proof_list)
        report.checks.append(self._well_formed(credential, expand=not rdfc_only))
        result = self.engine.verify(credential, expected_purpose="assertionMethod")
        report.checks.append(self._proof_check(result))
        _fold_data_loss(report, result)
        if proof_only:
            return report
        report.checks.append(self._binding(report.issuer, result.proofs, "issuer", "assertionMethod"))
        self._rest(credential, report)
        return report

    def verify_enveloped_credential(self, envelope: dict[str, Any], *, proof_only: bool = False) -> Report:
        """VC 2.0 §4.13.1 EnvelopedVerifiableCredential: its ``@context`` "MUST be present and include a context, such
        as the base context ..., that defines at least the id, type, and EnvelopedVerifiableCredential terms" (of the
        pinned contexts only the VC 2.0 base context does, first as in every VC 2.0 document); the secured credential
        is the data: URL in ``id``."""
        failed = _envelope_context_problem(envelope, "credential")
        if failed is not None:
            report = Report("credential", "vc+jwt")
            report.checks.append(failed)
            return report
        return self.verify_token(_envelope_payload(envelope), proof_only=proof_only)

    def verify_token(self, token: str, *, proof_only: bool = False) -> Report:
        """A compact vc+jwt, or an SD-JWT VC (its Issuer-signed JWT followed by ``~``)."""
        if "~" in token:
            return self.verify_sd_jwt(token, proof_only=proof_only)
        return self.verify_jwt(token, proof_only=proof_only)

    def verify_jwt(self, token: str, *, proof_only: bool = False) -> Report:
        out = vc_jose.verify(token, self.resolve_method, clock=self.clock, check_validity=False)
        credential = out.credential
        report = Report("credential", "vc+jwt", credential=credential, issuer=issuer_id(credential) if credential else None)
        if credential is None:
            report.checks.append(Check("well_formed", "failed", out.result.reason or "the token could not be read", out.result.error or "PARSING_ERROR"))
            report.checks.append(self._proof_check(out.result))
            return report
        report.checks.append(self._well_formed(credential, expand=True))
        report.checks.append(self._proof_check(out.result))
        if proof_only:
            return report
        report.checks.append(self._binding(report.issuer, out.result.proofs, "issuer", "assertionMethod"))
        self._rest(credential, report)
        _jwt_validity(report, out.claims, self.clock())
        return report

    def verify_sd_jwt(self, token: str, *, proof_only: bool = False, nonce: str | None = None, aud: str | None = None) -> Report:
        """An SD-JWT VC (SD-JWT VC draft §3; RFC 9901 §7.1, §7.3) or a presentation of one: the signature, every
        Disclosure, a Key Binding JWT when present (with ``nonce`` and ``aud`` when the caller expects them; required
        then), validity (``exp``/``nbf``), Token Status List status, trust, and EU completeness over what was
        disclosed only. The report's ``disclosures`` check names the disclosed and the withheld claims."""
        out = sd_jwt.verify(token, self.resolve_method, clock=self.clock, nonce=nonce, aud=aud, require_key_binding=nonce is not None or aud is not None)
        payload = out.payload or {}
        issuer = payload.get("iss") if isinstance(payload.get("iss"), str) else None
        report = Report("credential", "sd-jwt", credential=out.claims, issuer=issuer)
        report.checks.append(_sd_jwt_well_formed(out))
        report.checks.append(self._proof_check(out.result))
        if out.claims is None or not out.result.verified:
            return report
        report.checks.append(_disclosures(out))
        report.checks.append(self._type_metadata(payload))
        if proof_only:
            return report
        report.checks.append(self._binding(issuer, out.result.proofs, "issuer", "assertionMethod"))
        if out.key_binding is not None:
            report.checks.append(Check("holder_binding", "passed", "a Key Binding JWT signed with the holder's key (cnf.jwk), for this nonce and audience"))
        else:
            report.checks.append(Check("holder_binding", "skipped", "no Key Binding JWT: the presentation does not prove who holds the credential"))
        why = vc_jose.claims_validity(payload, self.clock())
        report.checks.append(Check("validity", "failed", why, "RANGE_ERROR") if why else Check("validity", "passed", "within its nbf/exp"))
        if "status" not in payload:
            report.checks.append(Check("status", "skipped", "the credential carries no status"))
        elif not hasattr(self.status_check, "token_status"):
            report.checks.append(Check("status", "indeterminate", "status checking is not available", "STATUS_RETRIEVAL_ERROR"))
        else:
            report.checks.append(self.status_check.token_status(payload["status"], issuer))  # type: ignore[union-attr]
        if self.trust_check is not None:
            report.checks.append(self.trust_check(issuer))
        report.checks.append(_sd_jwt_completeness(out))
        return report

    def _type_metadata(self, payload: dict[str, Any]) -> Check:
        """SD-JWT VC draft §6 and §7: the vct's Type Metadata, and ``vct#integrity`` (W3C SRI §3.5) over its bytes."""
        vct, integrity = payload.get("vct"), payload.get("vct#integrity")
        document = self.type_metadata(vct) if self.type_metadata is not None and isinstance(vct, str) else None
        if document is None:
            return Check("type_metadata", "skipped", "the vct's Type Metadata is not this service's (remote type metadata is not fetched)")
        if integrity is None:
            return Check("type_metadata", "passed", "the vct is this service's EU micro-credential type (no vct#integrity to check)")
        if not isinstance(integrity, str) or integrity != sd_jwt_vc.integrity(document):
            return Check("type_metadata", "failed", "vct#integrity does not match the type's metadata (SD-JWT VC draft §7)", "MALFORMED_VALUE_ERROR")
        return Check("type_metadata", "passed", "the vct's Type Metadata matches vct#integrity")

    def verify_presentation(self, vp: dict[str, Any], *, challenge: str | None, domain: str | None, proof_only: bool = False) -> Report:
        if "EnvelopedVerifiablePresentation" in types(vp):
            return self.verify_enveloped_presentation(vp, challenge=challenge, domain=domain, proof_only=proof_only)
        report = Report("presentation", "data-integrity", issuer=vc_jose.holder_id(vp))
        if "VerifiablePresentation" not in types(vp):
            report.checks.append(Check("well_formed", "failed", "the presentation's type does not include VerifiablePresentation", "MALFORMED_VALUE_ERROR"))
            return report
        inner = _inner_credentials(vp, report)
        if inner is None:
            return report
        report.checks.append(self._well_formed(vp, expand=False, presentation=True))
        result = self.engine.verify(vp, expected_purpose="authentication", challenge=challenge, domain=domain)
        report.checks.append(self._proof_check(result))
        _fold_data_loss(report, result)
        report.checks.append(self._holder_binding(report.issuer, result.proofs))
        self._verify_inner(inner, report, proof_only)
        self._composites_presented(inner, report)
        return report

    def verify_enveloped_presentation(self, envelope: dict[str, Any], *, challenge: str | None, domain: str | None, proof_only: bool = False) -> Report:
        """VC 2.0 §4.13.2 EnvelopedVerifiablePresentation: the data: URL in ``id`` is a VC-JOSE-COSE §3.2
        ``vp+jwt`` (``application/vp+jwt``) or a VC DM 1.1 §6.3 JWT with a ``vp`` claim (``application/jwt``)."""
        report = Report("presentation", "vp+jwt")
        failed = _envelope_context_problem(envelope, "presentation")
        if failed is not None:
            report.checks.append(failed)
            return report
        token = _envelope_payload(envelope, media=("application/vp+jwt", "application/jwt"))
        out = vc_jose.verify(
            token,
            self.resolve_method,
            clock=self.clock,
            expected_purpose="authentication",
            expected_typ="vp+jwt",
            presentation=True,
            challenge=challenge,
            domain=domain,
        )
        vp = out.credential
        if vp is None or "VerifiablePresentation" not in types(vp):
            report.checks.append(
                Check("well_formed", "failed", out.result.reason or "the token does not carry a presentation", out.result.error or "PARSING_ERROR")
            )
            report.checks.append(self._proof_check(out.result))
            return report
        report.issuer = vc_jose.holder_id(vp)
        inner = _inner_credentials(vp, report)
        if inner is None:
            return report
        report.checks.append(self._well_formed(vp, expand=False, presentation=True))
        report.checks.append(self._proof_check(out.result))
        report.checks.append(self._holder_binding(report.issuer, out.result.proofs))
        self._verify_inner(inner, report, proof_only)
        self._composites_presented(inner, report)
        return report

    def _holder_binding(self, holder: str | None, proofs) -> Check:
        """VC 2.0 §4.13 makes ``holder`` optional: without one there is no holder binding to check."""
        if holder is None and proofs and all(p.verified for p in proofs):
            return Check("holder_binding", "skipped", "the presentation names no holder: there is no holder binding to check")
        return self._binding(holder, proofs, "holder", "authentication")

    def _verify_inner(self, inner: list[Any], report: Report, proof_only: bool) -> None:
        for item in inner:
            report.credentials.append(self._verify_item(item, proof_only=proof_only))

    # -- the checks

    def _well_formed(self, doc: dict[str, Any], *, expand: bool, presentation: bool = False) -> Check:
        """VC Data Model §4: required properties; only pinned contexts; no data loss (Data Integrity §2.3)."""
        contexts = doc.get("@context")
        contexts = contexts if isinstance(contexts, list) else [contexts]
        if not contexts or contexts[0] not in (VC1, VC2):
            return Check("well_formed", "failed", "the first @context must be the VC 1.1 or 2.0 base context", "MALFORMED_VALUE_ERROR")
        missing: list[str] = []
        if not presentation:
            missing = [p for p in ("issuer", "credentialSubject") if p not in doc]
            if contexts[0] == VC1 and "issuanceDate" not in doc:
                missing.append("issuanceDate")
        if missing:
            return Check("well_formed", "failed", f"required properties missing: {', '.join(missing)}", "MALFORMED_VALUE_ERROR")
        if not presentation and (found := credential_problems(doc)):
            return Check(
                "well_formed",
                "failed",
                f"{found[0][0][1:]}: {found[0][1]}",
                "MALFORMED_VALUE_ERROR",
                {"errors": [{"pointer": p, "detail": d} for p, d in found]},
            )
        try:
            # The same rule as expansion applies (app.jsonld.embedded): every context URL pinned, embedded
            # contexts only adding terms; checked here whatever the suite, so the report says what it checked.
            embedded = check_contexts({k: v for k, v in doc.items() if k != "proof"}, self.loader)
        except MicrocredError as exc:
            return Check("well_formed", "failed", exc.detail, exc.code)
        if expand:
            try:
                to_quads({k: v for k, v in doc.items() if k != "proof"}, self.loader)
            except MicrocredError as exc:
                return Check("well_formed", "failed", exc.detail, exc.code)
        kind = "pinned contexts and embedded contexts that only add terms" if embedded else "pinned contexts only"
        return Check("well_formed", "passed", f"well-formed, with {kind}, and no data loss")

    @staticmethod
    def _proof_check(result) -> Check:
        details = {"proofs": [p.as_dict() for p in result.proofs]}
        if result.verified:
            n = len(result.proofs)
            return Check("proof", "passed", f"{'every one of ' + str(n) + ' proofs' if n > 1 else 'the signature'} verifies", details=details)
        return Check("proof", "failed", result.reason or "the proof does not verify", result.error or "PROOF_VERIFICATION_ERROR", details)

    @staticmethod
    def _binding(party: str | None, proofs, role: str, relationship: str) -> Check:
        """security-notes.md §10: the key belongs to the issuer (holder) and is authorised for the purpose.

        A holder's presentation: every proof is the holder's. A credential: at least one proof is the issuer's; others
        (a proof set or chain, Data Integrity §2.1.1-2.1.2, e.g. a notary's or an earlier signer's) must verify too
        (the proof check) and are named in the report, but need not be the issuer's."""
        if not proofs or not all(p.verification_method for p in proofs):
            return Check(f"{role}_binding", "failed", "no verified proof to bind", "INVALID_VERIFICATION_METHOD")
        if not party:
            return Check(f"{role}_binding", "failed", f"the document names no {role}", "MALFORMED_VALUE_ERROR")
        others = [p for p in proofs if p.controller is None or p.controller != party]
        own = [p for p in proofs if p not in others]
        if others and (role != "issuer" or not own):
            p = others[0]
            return Check(
                f"{role}_binding",
                "failed",
                f"the signing key is controlled by {p.controller or 'an unknown party'}, not by the {role} {party}",
                "INVALID_VERIFICATION_METHOD",
            )
        if not all(p.purpose_authorized for p in own):
            return Check(f"{role}_binding", "failed", f"the {role}'s DID document does not list the key under {relationship}", "INVALID_VERIFICATION_METHOD")
        if not all(p.purpose_authorized for p in others):
            p = next(p for p in others if not p.purpose_authorized)
            return Check(
                f"{role}_binding", "failed", f"the DID document of {p.controller} does not list its key under {relationship}", "INVALID_VERIFICATION_METHOD"
            )
        if others:
            names = ", ".join(sorted({str(p.controller)[:120] for p in others}))
            return Check(
                f"{role}_binding",
                "passed",
                f"signed with a key of the {role}, authorised for {relationship}; also signed by {names} (a proof of another party)",
                details={"otherSigners": sorted({str(p.controller) for p in others})},
            )
        return Check(f"{role}_binding", "passed", f"signed with a key of the {role}, authorised for {relationship}")

    def _validity(self, credential: dict[str, Any]) -> Check:
        """VC 2.0 §4.9 validFrom/validUntil; VC 1.1 §4.6/§7.3 issuanceDate/expirationDate."""
        now = self.clock()
        try:
            start = credential.get("validFrom", credential.get("issuanceDate"))
            end = credential.get("validUntil", credential.get("expirationDate"))
            start_at = parse_datetime_stamp(start, field="validFrom") if start is not None else None
            end_at = parse_datetime_stamp(end, field="validUntil") if end is not None else None
        except MicrocredError as exc:
            return Check("validity", "failed", exc.detail, exc.code)
        if start_at and start_at > now + LEEWAY:
            return Check("validity", "failed", f"not valid before {start}", "RANGE_ERROR")
        if end_at and end_at < now:
            return Check("validity", "failed", f"expired on {end}", "RANGE_ERROR")
        if end_at:
            return Check("validity", "passed", f"valid until {end}")
        return Check("validity", "passed", "valid, with no end date")

    def _rest(self, credential: dict[str, Any], report: Report) -> None:
        report.checks.append(self._validity(credential))
        if "credentialStatus" not in credential:
            report.checks.append(Check("status", "skipped", "the credential carries no status entry"))
        elif self.status_check is None:
            report.checks.append(Check("status", "indeterminate", "status checking is not available", "STATUS_RETRIEVAL_ERROR"))
        else:
            report.checks.append(self.status_check(credential, report))
        if self.trust_check is not None:
            report.checks.append(self.trust_check(report.issuer))
        if self.completeness_check is not None:
            report.checks.append(self.completeness_check(credential))
        self._composite(credential, report)

    def _composite(self, credential: dict[str, Any], report: Report) -> None:
        """A composite's tree (app/verification/composite.py), with the components a CLR embeds verified in full;
        an embedded CLR's own components are not verified again (one level)."""
        presented = {}
        if "ClrCredential" in types(credential):
            items = [x for x in embedded_components(credential) if not (isinstance(x, dict) and "ClrCredential" in types(x))]
            presented = presented_of(items, [self._verify_item(x) for x in items], _token_of)
        check = composite_check(credential, presented)
        if check is not None:
            report.checks.append(check)

    def _verify_item(self, item: Any, *, proof_only: bool = False) -> Report:
        """One credential of a presentation or a CLR: a JSON credential, a compact JWT, or an enveloped one."""
        try:
            if isinstance(item, str):
                return self.verify_token(item, proof_only=proof_only)
            if isinstance(item, dict) and "EnvelopedVerifiableCredential" in types(item):
                return self.verify_enveloped_credential(item, proof_only=proof_only)
            if isinstance(item, dict):
                return self.verify_credential(item, proof_only=proof_only)
            raise NotACredential("an item of verifiableCredential is neither an object nor a JWT")
        except NotACredential as exc:
            bad = Report("credential", "unknown")
            bad.checks.append(Check("well_formed", "failed", exc.detail, exc.code))
            return bad

    @staticmethod
    def _composites_presented(inner: list[Any], report: Report) -> None:
        """A composite presented with its components: its tree checks those presented beside it (digest, state)."""
        presented = presented_of(inner, report.credentials, _token_of)
        for r in report.credentials:
            at = next((i for i, c in enumerate(r.checks) if c.id == "composite"), None)
            if at is None or r.credential is None or "ClrCredential" in types(r.credential):
                continue
            own = {k: v for k, v in presented.items() if k != r.credential.get("id")}
            check = composite_check(r.credential, own)
            if check is not None:
                r.checks[at] = check


def _inner_credentials(vp: dict[str, Any], report: Report) -> list[Any] | None:
    """A presentation's credentials, or None (and a failed check) when there are more than are verified."""
    inner = vp.get("verifiableCredential") or []
    inner = inner if isinstance(inner, list) else [inner]
    if len(inner) > MAX_PRESENTATION_CREDENTIALS:
        why = f"the presentation holds {len(inner)} credentials; at most {MAX_PRESENTATION_CREDENTIALS} are verified"
        report.checks.append(Check("well_formed", "failed", why, "RANGE_ERROR"))
        return None
    return inner


def _sd_jwt_well_formed(out: sd_jwt.SdJwtVerification) -> Check:
    """SD-JWT VC draft §3.2.2: ``iss`` and ``vct`` plain strings, ``cnf`` a JWK when present (read before the proof)."""
    payload = out.payload
    if payload is None:
        return Check("well_formed", "failed", out.result.reason or "the SD-JWT could not be read", out.result.error or "PARSING_ERROR")
    for claim in ("iss", "vct"):
        if not isinstance(payload.get(claim), str) or not payload[claim]:
            return Check("well_formed", "failed", f"an SD-JWT VC has a plain string {claim} claim (SD-JWT VC draft §3.2.2)", "MALFORMED_VALUE_ERROR")
    cnf = payload.get("cnf")
    if cnf is not None and not (isinstance(cnf, dict) and isinstance(cnf.get("jwk"), dict)):
        return Check("well_formed", "failed", "cnf must be an object with a jwk (RFC 7800 §3.2)", "MALFORMED_VALUE_ERROR")
    return Check("well_formed", "passed", f"an SD-JWT VC of type {payload['vct'][:200]}")


def _disclosures(out: sd_jwt.SdJwtVerification) -> Check:
    """Which claims the presentation disclosed and which it withheld (of the type's claims, when the type is the EU
    micro-credential; otherwise only the count of digests left undisclosed, which decoys make an upper bound)."""
    claims = out.claims or {}
    disclosed = sorted({str(p[0]) for p in out.disclosed if p})
    payload = out.payload or {}
    known = [name for name, _, _, _ in sd_jwt_vc.CLAIMS] if str(payload.get("vct", "")).endswith(sd_jwt_vc.VCT_PATH) else []
    withheld = [name for name in known if name not in claims]
    details = {"disclosed": disclosed, "withheld": withheld, "undisclosedDigests": out.undisclosed_digests}
    return Check("disclosures", "passed", f"{len(disclosed)} claims disclosed, {out.undisclosed_digests} withheld", details=details)


def _sd_jwt_completeness(out: sd_jwt.SdJwtVerification) -> Check:
    """EU completeness over the disclosed claims only (Annex I elements the verifier was shown)."""
    payload = out.payload or {}
    if not str(payload.get("vct", "")).endswith(sd_jwt_vc.VCT_PATH):
        return Check("eu_completeness", "skipped", "not an EU micro-credential SD-JWT VC")
    results = sd_jwt_vc.eu_completeness(out.claims or {})
    present, total = mandatory_score(results)
    elements = [{"key": r.key, "element": r.element, "mandatory": r.mandatory, "present": r.present} for r in results]
    optional = sum(r.present for r in results if not r.mandatory)
    details = {"mandatory": f"{present} of {total}", "optional": f"{optional} of {len(results) - total}", "elements": elements, "disclosedOnly": True}
    if present == total:
        return Check("eu_completeness", "passed", f"all {total} mandatory EU micro-credential elements disclosed", details=details)
    missing = [r.element for r in results if r.mandatory and not r.present]
    return Check(
        "eu_completeness",
        "indeterminate",
        f"{present} of {total} mandatory EU micro-credential elements disclosed; not shown: {', '.join(missing)}",
        "EU_ELEMENTS_MISSING",
        details,
    )


#: VC-JOSE-COSE §6.1 media types of an enveloped credential, and ``application/jwt`` for a VC DM 1.1 §6.3 JWT
#: (its ``vc`` claim), which VC 2.0 §4.13.1 examples and the W3C VCDM test suite envelope too.
CREDENTIAL_MEDIA = ("application/vc+jwt", "application/vc+sd-jwt", "application/dc+sd-jwt", "application/jwt")


def _envelope_context_problem(envelope: dict[str, Any], what: str) -> Check | None:
    """VC 2.0 §4.13.1/§4.13.2: an envelope's first @context is the VC 2.0 base context (a string or an array)."""
    contexts = envelope.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    if not contexts or contexts[0] != VC2:
        return Check("well_formed", "failed", f"an enveloped {what}'s first @context must be the VC 2.0 base context", "MALFORMED_VALUE_ERROR")
    return None


def _envelope_payload(envelope: dict[str, Any], media: tuple[str, ...] = CREDENTIAL_MEDIA) -> str:
    """VC 2.0 §4.13.1/§4.13.2 enveloped credential or presentation: the secured document is the data: URL in ``id``."""
    ident = envelope.get("id")
    if not isinstance(ident, str) or not ident.startswith("data:"):
        raise NotACredential("an enveloped credential's or presentation's id must be a data: URL")
    meta, _, data = ident[5:].partition(",")
    if meta.split(";")[0] not in media:
        raise NotACredential(f"enveloped media type {meta[:40]} is not supported (expected {', '.join(media)})")
    if len(data) > MAX_ENVELOPE_CHARS:
        raise NotACredential("the enveloped credential is longer than any credential this verifier reads")
    if meta.endswith(";base64"):
        try:
            return base64.b64decode(data).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            raise NotACredential("the enveloped credential is not valid base64") from None
    return urllib.parse.unquote(data)


def _token_of(item: Any) -> Any:
    """What a component's digest is over: a JSON credential, or the compact JWS (also inside an envelope)."""
    if isinstance(item, dict) and "EnvelopedVerifiableCredential" in types(item):
        try:
            return _envelope_payload(item)
        except NotACredential:
            return None
    return item


def _jwt_validity(report: Report, claims: dict[str, Any] | None, now: datetime) -> None:
    """The JWT's own exp/nbf count as well as validFrom/validUntil (VC-JOSE-COSE §3.1.1, RFC 7519 §4.1.4-5)."""
    why = vc_jose.claims_validity(claims, now)
    validity = report.check("validity")
    if why and validity is not None and validity.outcome == "passed":
        validity.outcome, validity.reason, validity.code = "failed", why, "RANGE_ERROR"


def _fold_data_loss(report: Report, result) -> None:
    """A data-loss failure found while canonicalizing is a well-formedness failure too."""
    for p in result.proofs:
        if p.error == "DATA_LOSS_DETECTION_ERROR":
            wf = report.check("well_formed")
            if wf and wf.outcome == "passed":
                wf.outcome, wf.reason, wf.code = "failed", p.reason or "data loss", "DATA_LOSS_DETECTION_ERROR"
