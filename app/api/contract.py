"""The data of the OpenAPI document: every body and answer as a component schema, with examples and links.

Routes read their bodies strictly themselves (``JsonBody`` / ``RawJsonBody``: strict I-JSON with size and depth
limits; ``POST /microcredentials`` parses inside the issuance service's one worker-thread hop), so FastAPI
cannot infer their schemas. This module says them instead, and ``app/api/openapi.py`` writes them into the
document:

* the EU micro-credential record and the specification are ``model_json_schema`` of the very pydantic models
  ``app.credentials.model`` validates with (``$defs`` merged into ``components/schemas``), each Annex I element
  (Council Recommendation 2022/C 243/02) named in its property's description, code lists as enums where closed
  and small (``app.credentials.vocab``), ``format: uri`` / the vocabulary named where large;
* the issuance-against-a-specification body is cut out of the record's schema with the model's own
  ``ISSUANCE_FIELDS`` / ``ISSUANCE_NESTED`` (what ``merge_specification`` accepts);
* answers (verification report, batch job, catalogue entry, status change, offer, credential list) are the
  pydantic models below, mirrors of the dicts the services return; tests validate real answers of the live
  service against them (``tests/contract/test_schemas.py``), so a mirror that drifts fails CI.

``OPERATIONS`` maps each operation to its request and response schemas; ``apply(doc)`` refuses an entry whose
operation does not exist, so a renamed route cannot leave its documentation behind silently.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.credentials import FORMATS
from app.credentials.annex import element_for_pointer
from app.credentials.model import ISSUANCE_FIELDS, ISSUANCE_NESTED, MicroCredentialInput, MicroCredentialSpecification
from app.proofs import PROOF_FORMATS
from app.verification.report import BLOCKING, Outcome

REF = "#/components/schemas/{model}"
_EXAMPLE = Path(__file__).resolve().parent.parent / "credentials" / "example_input.json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


# -- answers: mirrors of what the services return ----------------------------------------------------------


class _Answer(BaseModel):
    # An answer may gain members in a later minor version: clients must ignore what they do not know.
    model_config = ConfigDict(extra="allow")


class CheckResult(_Answer):
    """One check of a verification report (``app/verification/report.py`` ``Check.as_dict``)."""

    id: str = Field(
        description="The check: " + ", ".join(BLOCKING) + " block verification; issuer_trust and eu_completeness are reported beside.", examples=["proof"]
    )
    outcome: Outcome = Field(description="passed, failed, indeterminate (could not be decided, e.g. a status list unreachable) or skipped")
    reason: str = Field(description="A sentence a person can read.")
    code: str | None = Field(
        None, description="On failure: the standards' error name (VC Data Integrity / Bitstring Status List), e.g. PROOF_VERIFICATION_ERROR."
    )
    details: dict[str, Any] | None = Field(None, description="Check-specific facts (e.g. the missing Annex I elements of eu_completeness).")


class ReportError(_Answer):
    check: str = Field(description="The id of the blocking check that failed or was indeterminate.")
    code: str | None = None
    reason: str


class CredentialReport(_Answer):
    """The report of one credential (``Report.as_dict`` without the credential body)."""

    verified: bool = Field(description="True when every blocking check passed or was skipped.")
    kind: Literal["credential", "presentation"]
    format: str = Field(description="data-integrity or vc+jwt", examples=["data-integrity"])
    verdict: Literal["valid", "valid with warnings", "not valid"]
    checks: list[CheckResult]
    errors: list[ReportError] = Field(description="The blocking checks at fault (empty when verified).")
    warnings: list[str] = Field(description="Reasons of the non-blocking checks that did not pass (issuer trust, EU completeness).")
    issuer: str | None = Field(None, description="The issuer's id (a DID).")


class VerificationReport(CredentialReport):
    """A verification report (``Report.as_dict`` without the credential bodies): 200 when verified, 422 when not."""

    credentials: list[CredentialReport] = Field([], description="A presentation's credentials, one report each.")


class CredentialSummary(_Answer):
    id: str = Field(description="The credential's id (urn:uuid:…).")
    format: str = Field(description="ob3, edc or vc", examples=["ob3"])
    proof: str = Field(description="The proof format it was signed with.", examples=["eddsa-rdfc-2022"])
    mediaType: str = Field(examples=["application/vc+ld+json"])
    learner: str | None = Field(None, description="The learner reference the provider gave (an e-mail, an id).")
    createdAt: str = Field(description="XSD dateTimeStamp")


class CredentialList(_Answer):
    items: list[CredentialSummary]
    next: str | None = Field(description="Cursor of the next page (null: last page).")


class StatusChange(BaseModel):
    """The body of ``POST /credentials/status``; ``credentialStatus: [{status}]`` (VC API) is accepted for ``status``."""

    credentialId: str = Field(examples=["urn:uuid:9a8a0e52-5c8b-4e6f-b5b8-3c2f1a7d9e10"])
    status: Literal["revoked", "suspended", "active"] = Field(description="revoked is final; active lifts a suspension.")
    reason: str | None = None


class StatusAnswer(_Answer):
    credentialId: str
    revoked: bool
    suspended: bool
    status: Literal["revoked", "suspended", "active"]


class BatchJob(_Answer):
    id: str
    status: str = Field(description="queued, running, done or failed", examples=["done"])
    total: int
    done: int
    issued: int
    invalid: int
    errored: int
    progress: float = Field(ge=0, le=1)
    error: str | None = None
    results: str = Field(description="The path of the job's per-record results.")


class BatchItem(_Answer):
    row: int = Field(description="The record's index (0-based) or CSV row.")
    status: Literal["issued", "invalid", "error"]
    credentialId: str | None = None
    errors: list[dict[str, Any]] | None = Field(None, description="Why the record was not issued (JSON pointers into it, Annex I element).")


class BatchItems(_Answer):
    items: list[BatchItem]
    next: int | None = Field(description="The ``after`` of the next page (null: last page).")


class CatalogueProvider(_Answer):
    slug: str
    name: str
    did: str
    country: str


class CatalogueEntry(_Answer):
    """A specification as its owner and the public catalogue see it."""

    id: str
    title: dict[str, str] = Field(description="Language map of the title.")
    provider: CatalogueProvider | None
    country: str
    eqf: int | None = None
    ects: float | None = None
    fieldsOfEducation: list[str] = []
    published: bool
    updatedAt: str
    specification: dict[str, Any] = Field(description="The stored specification (a MicroCredentialSpecification, normalized).")
    ignoredFields: list[str] = Field(
        [],
        description="In the answer to POST /specifications only: JSON Pointers of the per-learner fields of a full record "
        "(learner, awardedAt, assessment date and grade value…) that were left out of the specification.",
    )


class CatalogueList(_Answer):
    items: list[CatalogueEntry]
    next: str | None


class SpecificationBody(BaseModel):
    specification: MicroCredentialSpecification | MicroCredentialInput = Field(
        description="The offering; a full record (such as the EU example) is accepted, its per-learner fields left out and named in ignoredFields."
    )
    published: bool = True


class PublishBody(BaseModel):
    published: bool


class Offer(_Answer):
    offerId: str
    offerUrl: str = Field(description="The single-use claim link for the learner's wallet.")
    qrSvg: str = Field(description="The claim link as an inline SVG QR code.")
    expiresAt: str


class StackProblem(_Answer):
    """A rule a component breaks (``component``: its index in the presentation) or the set leaves unmet."""

    rule: str = Field(
        description="same-learner, duplicate, no-matching-rule, cycle, verification, status, validity, trustRequired, minEqf, "
        "awardedAfter, disclosure (an SD-JWT VC does not disclose a claim the rule needs), holder-binding (an SD-JWT VC without a Key "
        "Binding JWT), components/<i>/required, minComponents or minEcts",
        examples=["minEcts"],
    )
    detail: str
    component: int | None = None
    claim: str | None = Field(None, description="disclosure: the SD-JWT VC claim withheld that the rule needs.", examples=["workload"])


class StackComponent(_Answer):
    """One presented component: what it is, how it was verified and matched (``app/issuance/stacking.py``)."""

    index: int
    id: str | None
    issuer: str | None
    issuerName: Any = None
    title: Any = None
    format: str = Field(examples=["ob3"], description="ob3, edc, sd-jwt (an SD-JWT VC), or unknown")
    ects: float | None
    eqf: int | None
    awardedAt: str | None
    learner: str | None
    holderKey: str | None = Field(None, description="An SD-JWT VC's holder key (RFC 9278 JWK thumbprint URI of cnf.jwk) when its KB-JWT verified.")
    withheldClaims: list[str] | None = Field(None, description="An SD-JWT VC's claims of its type that were not disclosed.")
    specification: str | None = Field(description="The specification it was issued against (a catalogue id or URL).")
    digestSRI: str = Field(
        description="W3C SRI sha384 of its exact bytes (a compact JWS, or the RFC 8785 form of a JSON credential; an SD-JWT VC "
        "without its KB-JWT, its Disclosures sorted)."
    )
    verified: bool
    rule: int | None = Field(description="The index of the composite's component rule it fills.")
    accepted: bool
    problems: list[StackProblem]
    checks: list[dict[str, Any]]


class StackLearner(_Answer):
    id: str | None
    sameLearner: Literal["holder", "identifiers", "none"] = Field(
        description="holder: bound to the presenting holder; identifiers: the learner identifiers agree (no presentation proof)"
    )
    reason: str


class StackSums(_Answer):
    ects: float
    components: int
    needed: int
    minEcts: float | None


class StackEvaluation(_Answer):
    """``POST /stacks/evaluate``: the learner's components against a composite's rules. Nothing is stored."""

    specificationId: str
    eligible: bool
    verdict: Literal["eligible", "not eligible"]
    learner: StackLearner
    components: list[StackComponent]
    sums: StackSums
    unmet: list[StackProblem]
    problems: list[StackProblem] = Field(description="Every refusal: the components' and the unmet rules.")
    presentation: dict[str, Any] | None = Field(None, description="The presentation's own checks (proof, holder binding).")


class StackEvaluateBody(BaseModel):
    specificationId: str = Field(max_length=64, description="The provider's composite specification.")
    presentation: dict[str, Any] | None = Field(None, description="A verifiable presentation of the learner's components.")
    credentials: list[Any] | None = Field(
        None,
        description="Or the components as a list: JSON credentials, compact JWSs, or SD-JWT VC presentations with a Key Binding JWT "
        "(no holder binding for the W3C ones: the learner identifiers must agree).",
    )
    presentationRequestId: str | None = Field(
        None,
        max_length=36,
        description="Or an answered OpenID4VP request (POST /presentation-requests): the components of its ldp_vc and dc+sd-jwt presentations.",
    )
    challenge: str | None = Field(
        None,
        description="The challenge the presentation's proof must carry (default: the proof's own); for SD-JWT VCs in credentials, the "
        "nonce of their Key Binding JWT (default: the KB-JWT's own).",
    )
    domain: str | None = Field(None, description="The presentation's domain; for SD-JWT VCs in credentials, the aud of their KB-JWT.")


class Challenge(_Answer):
    challenge: str
    domain: str | None = None


# -- the EU record, from the model ------------------------------------------------------------------------


def _annex(schemas: dict[str, dict]) -> None:
    """Name the Annex I element in each property of the record that carries one (``app.credentials.annex``)."""
    for record in ("MicroCredentialInput", "MicroCredentialSpecification"):
        for name, prop in schemas[record]["properties"].items():
            label = element_for_pointer(f"/{name}")
            if label:
                prop["description"] = f"Annex I element {label}." + (" " + prop["description"] if prop.get("description") else "")
    for name in ("country", "region"):
        schemas["AwardingBody"]["properties"][name]["description"] = f"Annex I element {element_for_pointer('/awardingBodies/0/' + name)}."
    for record in ("Assessment", "AssessmentSpecification"):
        for name in ("supervision", "grade"):
            schemas[record]["properties"][name]["description"] = f"Annex I element {element_for_pointer('/assessment/' + name)}."


def _issuance(schemas: dict[str, dict]) -> dict:
    """The per-learner part of a record (what ``merge_specification`` takes), cut out of the record's schema."""
    record = schemas["MicroCredentialInput"]
    properties = {k: copy.deepcopy(v) for k, v in record["properties"].items() if k in ISSUANCE_FIELDS}
    for key, subs in ISSUANCE_NESTED.items():
        source = schemas[record["properties"][key]["$ref"].rsplit("/", 1)[1]]
        properties[key] = {
            "type": "object",
            "additionalProperties": False,
            "description": record["properties"][key].get("description", ""),
            "properties": {sub: copy.deepcopy(source["properties"][sub]) for sub in subs},
        }
    return {
        "title": "MicroCredentialIssuance",
        "description": "The learner's data, the date and the grade: issued against a published specification "
        "(everything else comes from the specification; a field of the offering is refused).",
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in record.get("required", []) if k in properties],
        "properties": properties,
    }


def _issue_body() -> dict:
    return {
        "title": "IssueMicroCredential",
        "description": "Either `microcredential` (the full record) or `specificationId` with `issuance` "
        "(a body with neither is refused: 400 MALFORMED_VALUE_ERROR).",
        "type": "object",
        "properties": {
            "format": {
                "type": "string",
                "enum": [*FORMATS, "sd-jwt", "clr"],
                "default": "ob3",
                "description": "ob3 (Open Badges 3.0), edc (Europass EDC), sd-jwt (SD-JWT VC, bound to `holder`) or, for a composite "
                "only, clr (1EdTech CLR 2.0 ClrCredential)",
            },
            "proof": {
                "type": "string",
                "enum": [*PROOF_FORMATS, "sd-jwt", "jades"],
                "default": "eddsa-rdfc-2022",
                "description": "the proof format (Data Integrity suite or VC-JOSE; sd-jwt, the only one, for format sd-jwt; jades, a JAdES "
                "baseline-B seal, for format edc from a provider with a sealing certificate)",
            },
            "holder": {
                "description": 'format sd-jwt: the holder\'s public key, {"jwk": …} (Ed25519 or P-256), or a did:key / did:jwk',
                "anyOf": [
                    {"type": "object", "required": ["jwk"], "properties": {"jwk": {"type": "object"}}},
                    {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                    {"type": "string"},
                ],
            },
            "microcredential": ref("MicroCredentialInput"),
            "specificationId": {"type": "string", "maxLength": 64, "description": "issue against this published specification…"},
            "issuance": ref("MicroCredentialIssuance"),
            "presentation": {
                "type": "object",
                "description": "a composite specification: the learner's components as a verifiable presentation (issued only when "
                "POST /stacks/evaluate would say eligible; otherwise 422 NOT_ELIGIBLE, one error per unmet rule); an SD-JWT VC "
                "component is an EnvelopedVerifiableCredential data:application/dc+sd-jwt,<SD-JWT with KB-JWT>. format clr with no "
                "Open Badges component to embed: 422 CLR_NOT_EMBEDDABLE",
            },
            "credentials": {
                "type": "array",
                "items": {"description": "a component: a JSON credential, a compact JWS, or an SD-JWT VC presentation with a Key Binding JWT"},
                "description": "a composite specification: or the components as a list (no holder binding for the W3C ones)",
            },
            "presentationRequestId": {
                "type": "string",
                "maxLength": 36,
                "description": "a composite specification: or an answered OpenID4VP request, the components of its ldp_vc and dc+sd-jwt presentations",
            },
        },
    }


def _batch_body() -> dict:
    return {
        "title": "BatchRequest",
        "type": "object",
        "required": ["records"],
        "properties": {
            "format": {"type": "string", "enum": [*FORMATS, "sd-jwt"], "default": "ob3", "description": "sd-jwt: each record names its holder's key"},
            "proof": {
                "type": "string",
                "enum": [*PROOF_FORMATS, "sd-jwt"],
                "default": "eddsa-rdfc-2022",
                "description": "sd-jwt (and its default) for the sd-jwt format",
            },
            "specificationId": {
                "type": "string",
                "maxLength": 64,
                "description": "with it, each record is a MicroCredentialIssuance",
            },
            "records": {
                "type": "array",
                "minItems": 1,
                "description": 'with format sd-jwt, each record also has "holder": {"jwk": …} or a did:key / did:jwk',
                "items": {"anyOf": [ref("MicroCredentialInput"), ref("MicroCredentialIssuance")]},
            },
        },
    }


# -- examples -----------------------------------------------------------------------------------------------


def example_input() -> Any:
    return json.loads(_EXAMPLE.read_text(encoding="utf-8"))


def _check(id_: str, outcome: str, reason: str, code: str | None = None) -> dict:
    return {"id": id_, "outcome": outcome, "reason": reason, **({"code": code} if code else {})}


_ISSUER = "did:web:localhost%3A8000:issuers:demo-university"
_COMPLETE = {"id": "eu_completeness", "outcome": "passed", "reason": "all 11 Annex I elements"}
_PASSED = [
    _check("well_formed", "passed", "the credential is well formed (VC Data Model 2.0)"),
    _check("proof", "passed", "the eddsa-rdfc-2022 proof verifies"),
    _check("issuer_binding", "passed", "the proof was made with a key of the issuer"),
    _check("validity", "passed", "within its validity period"),
    _check("status", "passed", "not revoked or suspended"),
]
REPORT_EXAMPLES = {
    "valid": {
        "summary": "verified, nothing to warn about",
        "value": {
            "verified": True,
            "kind": "credential",
            "format": "data-integrity",
            "verdict": "valid",
            "issuer": _ISSUER,
            "errors": [],
            "warnings": [],
            "checks": _PASSED + [_check("issuer_trust", "passed", "the issuer is in the trust list"), _COMPLETE],
        },
    },
    "valid with warnings": {
        "summary": "verified; the issuer is not in the trust list",
        "value": {
            "verified": True,
            "kind": "credential",
            "format": "data-integrity",
            "verdict": "valid with warnings",
            "issuer": _ISSUER,
            "errors": [],
            "warnings": ["the issuer is not in the trust list"],
            "checks": _PASSED + [_check("issuer_trust", "indeterminate", "the issuer is not in the trust list"), _COMPLETE],
        },
    },
    "not valid": {
        "summary": "revoked",
        "value": {
            "verified": False,
            "kind": "credential",
            "format": "data-integrity",
            "verdict": "not valid",
            "issuer": _ISSUER,
            "errors": [{"check": "status", "code": "STATUS_VERIFICATION_ERROR", "reason": "the credential has been revoked"}],
            "warnings": [],
            "checks": _PASSED[:4]
            + [
                _check("status", "failed", "the credential has been revoked", "STATUS_VERIFICATION_ERROR"),
                _check("issuer_trust", "passed", "the issuer is in the trust list"),
                _COMPLETE,
            ],
        },
    },
}


# -- the schemas and where they go --------------------------------------------------------------------------


class DataIntegrityProof(_Answer):
    """An embedded proof (VC Data Integrity §2.1): ``eddsa-rdfc-2022`` / ``eddsa-jcs-2022`` as this service signs."""

    type: str = Field(examples=["DataIntegrityProof"])
    cryptosuite: str | None = Field(None, examples=["eddsa-rdfc-2022"])
    created: str | None = None
    verificationMethod: str = Field(description="The DID URL of the key (did:web or did:key).")
    proofPurpose: str = Field(examples=["assertionMethod"])
    proofValue: str = Field(description="Multibase base58btc of the signature.")


class VerifiableCredential(_Answer):
    """A credential secured with an embedded proof, exactly as signed and stored (VC DM 2.0 §4; an EDC is VC DM 1.1).
    The body of ``application/vc+ld+json`` answers; its members are those of the rendering (Europass EDC or Open
    Badges 3.0), which carry the EU elements (see ``MicroCredentialInput``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: list[str | dict[str, Any]] = Field(alias="@context", description="The base context first (VC 2.0, or VC 1.1 for an EDC).")
    id: str
    type: list[str] | str
    issuer: str | dict[str, Any] = Field(description="The issuer's DID, or an object whose id is it.")
    credentialSubject: dict[str, Any] | list[dict[str, Any]]
    credentialStatus: dict[str, Any] | list[dict[str, Any]] | None = Field(None, description="Bitstring Status List entries.")
    proof: DataIntegrityProof | list[DataIntegrityProof] = Field(description="One proof (an OB3's as a one-element array, OB 3.0 §B.1.2).")


class EnvelopedCredential(_Answer):
    """VC DM 2.0 §4.13: a JOSE-secured credential carried as a ``data:application/vc+jwt,`` URL."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: list[str] = Field(alias="@context")
    id: str = Field(description="data:application/vc+jwt,<compact JWS>")
    type: Literal["EnvelopedVerifiableCredential"]


class IssueCredentialBody(BaseModel):
    """W3C VC API issueCredential: a VC 2.0 or 1.1 credential without proof or status, and options."""

    credential: dict[str, Any] = Field(description="The credential to sign; its issuer, if given, must be the caller's DID; an id must be an absolute URL.")
    options: dict[str, Any] | None = Field(None, description="proofFormat or cryptosuite: " + ", ".join(PROOF_FORMATS))


class IssuedCredential(_Answer):
    """W3C VC API issueCredential's answer."""

    verifiableCredential: VerifiableCredential | EnvelopedCredential


class DryRun(_Answer):
    """``POST /microcredentials?dryRun=true``: the record is valid, its warnings, and the unsigned credential."""

    valid: bool
    warnings: list[dict[str, Any]]
    credential: dict[str, Any] = Field(description="The rendering that would be signed: no proof, no status entries.")


class VerificationMethod(_Answer):
    id: str
    type: str = Field(examples=["Multikey", "JsonWebKey"])
    controller: str
    publicKeyMultibase: str | None = None
    publicKeyJwk: dict[str, Any] | None = None


class DidDocument(_Answer):
    """A provider's did:web DID document (DID Core §5): every key, retired ones too, as Multikey and as JsonWebKey."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: list[str] = Field(alias="@context")
    id: str
    verificationMethod: list[VerificationMethod]
    assertionMethod: list[str]
    authentication: list[str]


_ANSWERS = (
    VerifiableCredential,
    EnvelopedCredential,
    IssueCredentialBody,
    IssuedCredential,
    DryRun,
    DidDocument,
    VerificationReport,
    CredentialList,
    StatusChange,
    StatusAnswer,
    BatchJob,
    BatchItems,
    CatalogueEntry,
    CatalogueList,
    SpecificationBody,
    PublishBody,
    Offer,
    Challenge,
    StackEvaluation,
    StackEvaluateBody,
)


def _model_schemas(*models: type[BaseModel]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF, mode="validation")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def schemas() -> dict[str, dict]:
    """``components/schemas``: the record and the specification, the bodies and the answers."""
    out = _model_schemas(MicroCredentialInput, MicroCredentialSpecification)
    _annex(out)
    out["MicroCredentialInput"]["examples"] = [example_input()]
    out["MicroCredentialIssuance"] = _issuance(out)
    out["IssueMicroCredential"] = _issue_body()
    out["BatchRequest"] = _batch_body()
    for name, schema in _model_schemas(*_ANSWERS).items():
        out.setdefault(name, schema)
    entry = out["CatalogueEntry"]["properties"]
    entry["specification"] = {**ref("MicroCredentialSpecification"), "description": entry["specification"]["description"]}
    return out


def _json(schema: dict, example: Any = None, examples: dict | None = None) -> dict:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    if examples:
        content["examples"] = examples
    return content


#: A credential secured as VC-JOSE: the compact JWS itself (``typ: vc+jwt``).
JWT = {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$", "description": "a VC-JOSE compact JWS (typ vc+jwt)"}


def _vc_example() -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:learner", "name": "Ana Andromeda"},
    }


def _spec_example() -> dict:
    spec = {k: v for k, v in example_input().items() if k not in ISSUANCE_FIELDS}
    for key, subs in ISSUANCE_NESTED.items():
        spec[key] = {k: v for k, v in spec[key].items() if k not in subs}
    return spec


def _issuance_example() -> dict:
    full = example_input()
    out = {k: v for k, v in full.items() if k in ISSUANCE_FIELDS}
    for key, subs in ISSUANCE_NESTED.items():
        out[key] = {k: v for k, v in full[key].items() if k in subs}
    return out


def operations() -> dict[tuple[str, str], dict]:
    """(path, method) → {"body": content by media type, "responses": {status: content by media type}, "links": …}."""
    example = example_input()
    report = {"application/json": _json(ref("VerificationReport"), examples=REPORT_EXAMPLES)}
    return {
        ("/microcredentials", "post"): {
            "responses": {
                "201": {"application/vc+ld+json": _json(ref("VerifiableCredential")), "application/vc+jwt": _json(JWT), "application/jwt": _json(JWT)},
                "200": {"application/json": _json(ref("DryRun"))},
            },
            "body": {
                "application/json": _json(
                    ref("IssueMicroCredential"),
                    examples={
                        "record": {"summary": "the full EU record", "value": {"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example}},
                        "specification": {
                            "summary": "against a published specification",
                            "value": {"format": "edc", "specificationId": "spec_01", "issuance": _issuance_example()},
                        },
                    },
                )
            },
            "links": {
                "201": {
                    "GetCredential": {
                        "operationId": "get_credential",
                        "parameters": {"credential_id": "$response.body#/id"},
                        "description": "The credential just issued, as stored.",
                    },
                    "RevokeCredential": {
                        "operationId": "update_status",
                        "requestBody": {"credentialId": "$response.body#/id", "status": "revoked"},
                        "description": "Revoke the credential just issued.",
                    },
                    "VerifyCredential": {
                        "operationId": "verify_credential",
                        "requestBody": {"verifiableCredential": "$response.body"},
                        "description": "Verify the credential just issued.",
                    },
                }
            },
        },
        ("/credentials/issue", "post"): {
            "body": {"application/json": _json(ref("IssueCredentialBody"), {"credential": _vc_example(), "options": {"cryptosuite": "eddsa-rdfc-2022"}})},
            "responses": {"201": {"application/json": _json(ref("IssuedCredential"))}},
        },
        ("/credentials", "get"): {"responses": {"200": {"application/json": _json(ref("CredentialList"))}}},
        ("/issuers/{slug}/did.json", "get"): {"responses": {"200": {"application/did+ld+json": _json(ref("DidDocument"))}}},
        ("/status/{list_id}", "get"): {"responses": {"200": {"application/vc+ld+json": _json(ref("VerifiableCredential"))}}},
        ("/credentials/{credential_id}", "get"): {
            "responses": {
                "200": {"application/vc+ld+json": _json(ref("VerifiableCredential")), "application/vc+jwt": _json(JWT), "application/jwt": _json(JWT)}
            },
            "links": {
                "200": {
                    "VerifyCredential": {
                        "operationId": "verify_credential",
                        "requestBody": {"verifiableCredential": "$response.body"},
                        "description": "Verify the stored credential.",
                    },
                }
            },
        },
        ("/credentials/status", "post"): {
            "body": {
                "application/json": _json(
                    ref("StatusChange"), {"credentialId": "urn:uuid:9a8a0e52-5c8b-4e6f-b5b8-3c2f1a7d9e10", "status": "revoked", "reason": "issued in error"}
                )
            },
            "responses": {"200": {"application/json": _json(ref("StatusAnswer"))}},
        },
        ("/credentials/verify", "post"): {"responses": {"200": report, "422": report}},
        ("/presentations/verify", "post"): {"responses": {"200": report, "422": report}},
        ("/verify/upload", "post"): {"responses": {"200": report, "422": report}},
        ("/challenges", "post"): {"responses": {"200": {"application/json": _json(ref("Challenge"))}}},
        ("/microcredentials/batch", "post"): {
            "body": {"application/json": _json(ref("BatchRequest"), {"format": "ob3", "records": [example]})},
            "responses": {"202": {"application/json": _json(ref("BatchJob"))}},
        },
        ("/microcredentials/batch/{job_id}", "get"): {"responses": {"200": {"application/json": _json(ref("BatchJob"))}}},
        ("/microcredentials/batch/{job_id}/items", "get"): {"responses": {"200": {"application/json": _json(ref("BatchItems"))}}},
        ("/specifications", "post"): {
            "body": {"application/json": _json(ref("SpecificationBody"), {"specification": _spec_example(), "published": True})},
            "responses": {"201": {"application/json": _json(ref("CatalogueEntry"))}},
        },
        ("/specifications", "get"): {"responses": {"200": {"application/json": _json(ref("CatalogueList"))}}},
        ("/specifications/{spec_id}", "get"): {"responses": {"200": {"application/json": _json(ref("CatalogueEntry"))}}},
        ("/specifications/{spec_id}/publish", "post"): {
            "body": {"application/json": _json(ref("PublishBody"), {"published": False})},
            "responses": {"200": {"application/json": _json(ref("CatalogueEntry"))}},
        },
        ("/catalogue", "get"): {"responses": {"200": {"application/json": _json(ref("CatalogueList"))}}},
        ("/catalogue/{spec_id}", "get"): {"responses": {"200": {"application/json": _json(ref("CatalogueEntry"))}}},
        ("/credentials/{credential_id}/offer", "post"): {"responses": {"201": {"application/json": _json(ref("Offer"))}}},
        ("/stacks/evaluate", "post"): {
            "body": {"application/json": _json(ref("StackEvaluateBody"), {"specificationId": "spec_01", "presentation": {"type": ["VerifiablePresentation"]}})},
            "responses": {"200": {"application/json": _json(ref("StackEvaluation"))}},
        },
    }


def apply(doc: dict) -> dict:
    """Write the schemas, bodies, answers and links into a FastAPI-generated document, in place."""
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components.update(schemas())
    paths = doc.get("paths", {})
    for (path, method), spec in operations().items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            raise KeyError(f"app/api/contract.py documents {method.upper()} {path}, which the app does not have")
        if "body" in spec:
            body = operation.setdefault("requestBody", {"required": True, "content": {}})
            body["required"] = True
            for media, content in spec["body"].items():
                body["content"][media] = content
        for status, contents in spec.get("responses", {}).items():
            response = operation["responses"].setdefault(status, {"description": "OK"})
            content = response.setdefault("content", {})
            if content.get("application/json", {}).get("schema") == {} and "application/json" not in contents:
                del content["application/json"]  # FastAPI's placeholder for a route that answers another media type
            content.update(copy.deepcopy(contents))
        for status, links in spec.get("links", {}).items():
            operation["responses"][status]["links"] = links
    return doc


# -- a rendered copy -----------------------------------------------------------------------------------------


def _type(schema: dict) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(s) for s in schema[key] if s.get("type") != "null")
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    kind = schema.get("type", "any")
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def render_markdown(doc: dict) -> str:
    """The contract as Markdown (``openapi/openapi.md``, linked from the README): operations, then every schema."""
    lines = [
        f"# {doc['info']['title']} API {doc['info']['version']}",
        "",
        doc["info"].get("description", ""),
        "",
        "Generated from `openapi/openapi.json` by `microcred openapi`; the document is the contract. Served live at `/docs` and `/redoc`.",
        "",
        "## Operations",
        "",
        "| method | path | summary | body | answers |",
        "| --- | --- | --- | --- | --- |",
    ]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {})
            body_types = "; ".join(f"{media}: {_type(c.get('schema', {}))}" for media, c in body.items())
            answers = ", ".join(sorted(op.get("responses", {})))
            lines.append(f"| {method.upper()} | `{path}` | {op.get('summary', '')} | {body_types} | {answers} |")
    lines += ["", "## Schemas", ""]
    for name, schema in sorted(doc["components"]["schemas"].items()):
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [schema["description"].replace("\n", " "), ""]
        props = schema.get("properties", {})
        if props:
            required = set(schema.get("required", []))
            lines += ["| field | type | required | description |", "| --- | --- | --- | --- |"]
            for prop, sub in props.items():
                text = (sub.get("description") or "").replace("\n", " ").replace("|", "\\|")
                kind = _type(sub).replace("|", "\\|")
                lines.append(f"| `{prop}` | {kind} | {'yes' if prop in required else ''} | {text} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
