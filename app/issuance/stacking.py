"""Stackable micro-credentials: a learner's components evaluated against a composite specification's rules.

Council Recommendation 2022/C 243/02, Annex I (optional element "integration / stackability options") and the
MICROBOL Common Framework §3 name stackability; this module makes it checkable. A composite specification carries
``CompositeRules`` (app/credentials/model.py). ``Stacking.evaluate`` takes the learner's components as a verifiable
presentation (or as a plain list of credentials) and returns an ``Evaluation``:

* every component verified in full by the verification pipeline (signature, issuer binding, validity, status,
  trust, EU completeness), each matched to a rule or refused with the rule it breaks;
* the same learner throughout: the components are bound to the presenting holder (their subject is the holder
  whose key signed the presentation), or, where they are not, their learner identifiers agree; the evaluation
  says which;
* the sums (ECTS, count) and the verdict, with every unmet rule named.

Nothing is stored. The digest of each component is W3C SRI (sha384) over its exact bytes: a compact JWS as sent, a
JSON credential in its RFC 8785 (JCS) form, which every holder that keeps the JSON value reproduces whatever its
whitespace or key order (VC 2.0 §5.3 ``relatedResource``/``digestSRI``); an SD-JWT VC as presented, without its Key
Binding JWT and with its Disclosures sorted (``composite.sd_jwt_presented``).

An SD-JWT VC component (SD-JWT VC draft; RFC 9901) comes as a presentation with a Key Binding JWT: listed in
``credentials``, inside a presentation as an EnvelopedVerifiableCredential ``data:application/dc+sd-jwt,…``, or in
an OpenID4VP ``dc+sd-jwt`` answer. It is read from its disclosed claims (``sd_jwt_vc.component_facts``): a claim a
rule needs that it does not disclose is refused by name (rule ``disclosure``); its learner is the holder key that
signed its KB-JWT (``cnf.jwk``), and its ``learner_id`` where the composite or W3C components name a learner.

No HTTP here; credentials this service issued are found (their specification) through ``app.store``.
"""

from __future__ import annotations

import base64
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app import strict_json
from app.credentials import sd_jwt_vc, summary
from app.credentials.composite import Part, digest_sri, parts_of, sd_jwt_component_id
from app.credentials.model import CompositeRules
from app.errors import MalformedValueError, MicrocredError, NotFoundError
from app.proofs import sd_jwt
from app.store import credentials as credential_store
from app.store import presentation_requests as presentation_store
from app.store import specifications
from app.vcdm import types as _types
from app.verification import Check, NotACredential, Report
from app.verification.pipeline import MAX_PRESENTATION_CREDENTIALS
from app.xsd import format_datetime_stamp, parse_datetime_stamp

__all__ = ["Component", "Evaluation", "Problem", "Stacking"]

#: Checks a component must pass besides the rules: a failure of one of these names the check as the rule broken.
_VERIFICATION_RULES = {"status": "status", "validity": "validity"}


@dataclass
class Problem:
    """A rule a component breaks, or (``component`` ``None``) a rule the set leaves unmet."""

    rule: str
    detail: str
    component: int | None = None
    claim: str | None = None  # the SD-JWT VC claim the learner withheld that the rule needs

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "detail": self.detail}
        if self.component is not None:
            out["component"] = self.component
        if self.claim is not None:
            out["claim"] = self.claim
        return out


@dataclass
class Component:
    """One presented credential, read, verified and matched."""

    index: int
    item: Any  # as presented: a JSON credential, or a compact JWS
    report: Report
    digest: str
    id: str | None = None
    issuer: str | None = None
    issuer_name: Any = None
    title: Any = None
    ects: float | None = None
    eqf: int | None = None
    awarded: str | None = None
    learner: str | None = None
    format: str = "unknown"
    specification: str | None = None  # the catalogue id (this service) or URL it was issued against
    rule: int | None = None
    problems: list[Problem] = field(default_factory=list)
    #: an SD-JWT VC's holder key (RFC 9278 JWK Thumbprint URI of its ``cnf.jwk``) when its Key Binding JWT verified
    holder_key: str | None = None
    #: an SD-JWT VC's claims of the type that the learner did not disclose
    withheld: tuple[str, ...] = ()

    @property
    def credential(self) -> dict[str, Any] | None:
        return self.report.credential

    @property
    def accepted(self) -> bool:
        return self.rule is not None and not self.problems

    def as_dict(self) -> dict[str, Any]:
        checks = [{"id": c.id, "outcome": c.outcome, "reason": c.reason} for c in self.report.checks]
        return {
            "index": self.index,
            "id": self.id,
            "issuer": self.issuer,
            "issuerName": self.issuer_name,
            "title": self.title,
            "format": self.format,
            "ects": self.ects,
            "eqf": self.eqf,
            "awardedAt": self.awarded,
            "learner": self.learner,
            "holderKey": self.holder_key,
            "withheldClaims": list(self.withheld) if self.format == sd_jwt_vc.FORMAT else None,
            "specification": self.specification,
            "digestSRI": self.digest,
            "verified": self.report.verified,
            "rule": self.rule,
            "accepted": self.accepted,
            "problems": [p.as_dict() for p in self.problems],
            "checks": checks,
        }


@dataclass
class Evaluation:
    specification_id: str
    rules: CompositeRules
    components: list[Component]
    learner: str | None
    binding: str  # "holder" | "identifiers" | "none"
    binding_reason: str
    unmet: list[Problem]
    presentation: Report | None = None

    @property
    def accepted(self) -> list[Component]:
        return [c for c in self.components if c.accepted]

    @property
    def ects(self) -> float:
        return float(sum(c.ects or 0 for c in self.accepted))

    @property
    def problems(self) -> list[Problem]:
        return [p for c in self.components for p in c.problems] + self.unmet

    @property
    def eligible(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        out = {
            "specificationId": self.specification_id,
            "eligible": self.eligible,
            "verdict": "eligible" if self.eligible else "not eligible",
            "learner": {"id": self.learner, "sameLearner": self.binding, "reason": self.binding_reason},
            "components": [c.as_dict() for c in self.components],
            "sums": {
                "ects": self.ects,
                "components": len(self.accepted),
                "needed": self.rules.needed,
                "minEcts": self.rules.minEcts,
            },
            "unmet": [p.as_dict() for p in self.unmet],
            "problems": [p.as_dict() for p in self.problems],
        }
        if self.presentation is not None:
            out["presentation"] = {"verified": self.presentation.verified, "checks": [c.as_dict() for c in self.presentation.checks]}
        return out

    def refusal(self) -> MalformedValueError:
        """The 422 a composite's issuance answers with when the evaluation is not eligible: one error per problem,
        each naming the component (its pointer in the presentation) and the rule."""
        errors = []
        for p in self.problems:
            pointer = f"/presentation/verifiableCredential/{p.component}" if p.component is not None else "/specificationId"
            errors.append({"pointer": pointer, "detail": p.detail, "rule": p.rule, **({"claim": p.claim} if p.claim else {})})
        first = self.problems[0]
        exc = MalformedValueError(f"not eligible for the composite: {first.detail}", code="NOT_ELIGIBLE", errors=errors)
        exc.status = 422
        return exc


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("en") or next((v for v in value.values() if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def _envelope_token(item: dict[str, Any]) -> str | None:
    ident = item.get("id")
    if not isinstance(ident, str) or not ident.startswith("data:"):
        return None
    meta, _, data = ident[5:].partition(",")
    if meta.endswith(";base64"):
        try:
            return base64.b64decode(data).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return None
    return urllib.parse.unquote(data)


def _subject(credential: dict[str, Any] | None) -> dict[str, Any]:
    subject = (credential or {}).get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    return subject if isinstance(subject, dict) else {}


def learner_of(credential: dict[str, Any] | None) -> str | None:
    """The learner a component names: its subject's id (not a server-made ``urn:epass`` node id), else its name."""
    subject = _subject(credential)
    sid = subject.get("id")
    if isinstance(sid, str) and not sid.startswith("urn:epass:"):
        return sid
    try:
        name = summary(credential or {}).get("learnerName")
    except ValueError:
        return None
    text = _text(name)
    return f"name:{text}" if text else None


def achievement_ref(credential: dict[str, Any] | None) -> str | None:
    """The id of what a credential attests (OB3 ``achievement.id``; EDC ``hasClaim.specifiedBy.id``)."""
    subject = _subject(credential)
    achievement = subject.get("achievement")
    if isinstance(achievement, dict) and isinstance(achievement.get("id"), str):
        return achievement["id"]
    claim = subject.get("hasClaim")
    claim = claim[0] if isinstance(claim, list) and claim else claim
    spec = claim.get("specifiedBy") if isinstance(claim, dict) else None
    spec = spec[0] if isinstance(spec, list) and spec else spec
    return spec.get("id") if isinstance(spec, dict) and isinstance(spec.get("id"), str) else None


class Stacking:
    """Evaluating a learner's components against a composite (``POST /stacks/evaluate``, and before issuing one)."""

    def __init__(self, runtime, db, catalogue):
        self.runtime = runtime
        self.db = db
        self.catalogue = catalogue

    def composite_of(self, provider, spec_id: Any, *, required: bool = True) -> tuple[Any, CompositeRules | None]:
        """The provider's composite specification and its rules; 404 for none, 422 for one that is not a composite
        (with ``required=False``: rules ``None``)."""
        if not isinstance(spec_id, str) or not 0 < len(spec_id) <= 64:
            raise MalformedValueError(
                "specificationId must be a string of at most 64 characters", errors=[{"pointer": "/specificationId", "detail": "required"}]
            )
        with self.db.read() as session:
            record = specifications.get_specification(session, spec_id, provider_id=provider.id)
        if not record.data.get("composite"):
            if not required:
                return record, None
            exc = MalformedValueError(
                f"specification {spec_id} is not a composite: it declares no components",
                code="NOT_A_COMPOSITE",
                errors=[{"pointer": "/specificationId", "detail": "not a composite"}],
            )
            exc.status = 422
            raise exc
        return record, CompositeRules.model_validate(record.data["composite"])

    def evaluate_request(self, provider, body: Any) -> Evaluation:
        """``POST /stacks/evaluate``: ``{"specificationId", "presentation" | "credentials", "challenge"?, "domain"?}``."""
        if not isinstance(body, dict):
            raise MalformedValueError("the body must be a JSON object")
        record, rules = self.composite_of(provider, body.get("specificationId"))
        assert rules is not None
        return self.evaluate(record.id, rules, body)

    def evaluate(self, spec_id: str, rules: CompositeRules, body: dict[str, Any], *, learner_id: str | None = None) -> Evaluation:
        items, presentation, holder = self._verified_items(body)
        components = [self._component(i, item, report) for i, (item, report) in enumerate(items)]
        self._match(spec_id, rules, components)
        learner, binding, why = self._same_learner(components, holder, learner_id)
        unmet = self._unmet(rules, components)
        return Evaluation(spec_id, rules, components, learner, binding, why, unmet, presentation)

    @staticmethod
    def part(c: Component) -> Part:
        """An accepted component as the composite records it (app/credentials/composite.py)."""
        title = c.title if isinstance(c.title, dict) else ({"en": c.title} if isinstance(c.title, str) else {})
        country = None
        try:
            code = (summary(c.credential or {}).get("awardingBodyCountry") or {}).get("code")
            country = code if isinstance(code, str) else None
        except ValueError:
            country = None
        return Part(
            id=c.id or c.digest,
            issuer=c.issuer or "",
            issuer_name=_text(c.issuer_name),
            title=title,
            ects=c.ects,
            digest=c.digest,
            awarded=c.awarded,
            country=country,
            specification=c.specification,
            credential=c.item,
        )

    # -- reading and verifying

    def _verified_items(self, body: dict[str, Any]) -> tuple[list[tuple[Any, Report]], Report | None, str | None]:
        """(item, report) per component; the presentation's report; the holder whose key signed it (or None)."""
        vp, listed = body.get("presentation"), body.get("credentials")
        if body.get("presentationRequestId") is not None and vp is None and listed is None:
            return self._answered_items(body["presentationRequestId"])
        raw = _raw_components(vp, listed)
        items = [_envelope_token(x) or x if isinstance(x, dict) and "EnvelopedVerifiableCredential" in _types(x) else x for x in raw]
        if vp is not None and vp.get("proof") is not None:
            return self._presented_items(vp, items, body)
        return self._listed_items(items, body), None, None

    def _presented_items(self, vp: dict[str, Any], items: list[Any], body: dict[str, Any]) -> tuple[list[tuple[Any, Report]], Report, str | None]:
        """The components of a signed presentation, and its holder when its proof and holder binding pass."""
        challenge, domain = _proof_binding(vp, body)
        try:
            report = self.runtime.verifier.verify_presentation(vp, challenge=challenge, domain=domain)
        except NotACredential as exc:
            raise MalformedValueError(f"the presentation cannot be read: {exc.detail}", errors=[{"pointer": "/presentation", "detail": exc.detail}]) from None
        holder_check = report.check("holder_binding")
        proof_check = report.check("proof")
        bound = holder_check is not None and holder_check.outcome == "passed" and proof_check is not None and proof_check.outcome == "passed"
        # an SD-JWT VC inside the presentation (an EnvelopedVerifiableCredential data:application/dc+sd-jwt,…)
        # is verified again with its Key Binding JWT held to the presentation's challenge and domain
        reports = [self._sd_jwt_report(item, challenge, domain) if _is_sd_jwt(item) else r for item, r in zip(items, report.credentials, strict=True)]
        return list(zip(items, reports, strict=True)), report, report.issuer if bound else None

    def _listed_items(self, items: list[Any], body: dict[str, Any]) -> list[tuple[Any, Report]]:
        """Components without a presentation proof: each verified on its own; an SD-JWT VC with its Key Binding JWT
        for the body's ``challenge``/``domain`` as nonce and aud, else for those it names itself."""
        challenge, domain = _proof_binding({}, body) if any(_is_sd_jwt(x) for x in items) else (None, None)
        out = []
        for item in items:
            if _is_sd_jwt(item):
                kb = sd_jwt.peek_key_binding(item)
                out.append((item, self._sd_jwt_report(item, challenge or _str(kb.get("nonce")), domain or _str(kb.get("aud")))))
                continue
            try:
                out.append((item, self.runtime.verifier.verify(item)))
            except NotACredential as exc:
                bad = Report("credential", "unknown")
                bad.checks.append(Check("well_formed", "failed", exc.detail, exc.code))
                out.append((item, bad))
        return out

    def _sd_jwt_report(self, token: str, nonce: str | None, aud: str | None) -> Report:
        """An SD-JWT VC component verified in full (app/verification/pipeline.py ``verify_sd_jwt``): signature, every
        Disclosure, its Key Binding JWT for ``nonce`` and ``aud`` (RFC 9901 §7.3; required when either is known),
        validity, Token Status List status, trust."""
        try:
            return self.runtime.verifier.verify_sd_jwt(token, nonce=nonce, aud=aud)
        except NotACredential as exc:
            bad = Report("credential", sd_jwt_vc.FORMAT)
            bad.checks.append(Check("well_formed", "failed", exc.detail, exc.code))
            return bad

    def _answered_items(self, request_id: Any) -> tuple[list[tuple[Any, Report]], Report | None, str | None]:
        """The components of an answered OpenID4VP request (app/verification/oid4vp.py, OpenID4VP 1.0 §8.2): each
        presentation of the answer verified again now (its holder binding to the request's ``nonce`` as challenge
        and the client id it was answered for as domain, B.1.3.2; status as of now); the holder is the one whose key
        signed every presentation, else ``None`` (the learner identifiers must then agree)."""
        pointer = [{"pointer": "/presentationRequestId", "detail": "an answered presentation request"}]
        if not isinstance(request_id, str) or not 0 < len(request_id) <= 36:
            raise MalformedValueError("presentationRequestId must be the id of a presentation request", errors=pointer)
        with self.db.read() as session:
            record = presentation_store.get(session, request_id)
        if record is None:
            raise NotFoundError(f"no presentation request {request_id}")
        presentations = (record.result or {}).get("presentations") or [] if record.status == "received" else []
        if not presentations:
            state = "answered with an error" if record.status == "received" else "not answered"
            raise _unprocessable(
                f"the presentation request {request_id} was {state}: it holds no presentation of components", "PRESENTATION_NOT_RECEIVED", pointer
            )
        out: list[tuple[Any, Report]] = []
        holders: list[str | None] = []
        for p in presentations:
            vp = p.get("vp") if isinstance(p, dict) else None
            if p.get("format") == "dc+sd-jwt" and isinstance(vp, str):
                # its Key Binding JWT was held to this request's nonce and one of its client ids when it was answered
                aud = sd_jwt.peek_key_binding(vp).get("aud")
                out.append((vp, self._sd_jwt_report(vp, record.nonce, _str(aud))))
                continue
            if p.get("format") != "ldp_vc" or not isinstance(vp, dict):
                why = f"its {p.get('format')} answer cannot be stacked: a composite records W3C credentials presented as ldp_vc or dc+sd-jwt"
                raise _unprocessable(f"the presentation request {request_id} cannot give components: {why}", "PRESENTATION_NOT_STACKABLE", pointer)
            proof = vp.get("proof") if isinstance(vp.get("proof"), dict) else {}
            items, _, holder = self._verified_items({"presentation": vp, "challenge": record.nonce, "domain": proof.get("domain")})
            out.extend(items)
            holders.append(holder)
        if len(out) > MAX_PRESENTATION_CREDENTIALS:
            raise MalformedValueError(f"at most {MAX_PRESENTATION_CREDENTIALS} components are evaluated", errors=pointer)
        holder = holders[0] if holders and all(h is not None and h == holders[0] for h in holders) else None
        return out, None, holder

    def _component(self, index: int, item: Any, report: Report) -> Component:
        credential = report.credential
        component = Component(index, item, report, digest_sri(item) if isinstance(item, (str, dict)) else "")
        if not isinstance(credential, dict):
            _verification_problems(component)  # what failed (a tampered Disclosure, a signature), when a check says
            if not component.problems:
                component.problems.append(Problem("verification", f"component {index} is not a credential that can be read", index))
            return component
        if report.format == sd_jwt_vc.FORMAT and isinstance(item, str):
            self._sd_jwt_component(component, item, credential)
            return component
        component.id = credential.get("id") if isinstance(credential.get("id"), str) else None
        component.issuer = report.issuer
        try:
            facts = summary(credential)
        except ValueError:
            facts = {}
        component.format = facts.get("format", "unknown")
        component.title = facts.get("title")
        component.issuer_name = facts.get("issuer")
        component.ects = float(facts["ects"]) if isinstance(facts.get("ects"), (int, float)) else None
        component.eqf = facts.get("eqf") if isinstance(facts.get("eqf"), int) else None
        component.awarded = facts.get("date") if isinstance(facts.get("date"), str) else None
        component.learner = learner_of(credential)
        component.specification = self._specification_of(component.id, credential)
        _verification_problems(component)
        return component

    def _sd_jwt_component(self, component: Component, token: str, claims: dict[str, Any]) -> None:
        """An SD-JWT VC component read from what it disclosed (``sd_jwt_vc.component_facts``): its id the RFC 6920
        URI of its Issuer-signed JWT, its holder the key its Key Binding JWT was signed with (``cnf.jwk``)."""
        report = component.report
        facts = sd_jwt_vc.component_facts(claims)
        component.id = sd_jwt_component_id(token)
        component.issuer = report.issuer
        component.format = sd_jwt_vc.FORMAT
        component.title = facts["title"]
        component.issuer_name = facts["issuerName"]
        component.ects, component.eqf, component.awarded = facts["ects"], facts["eqf"], facts["awarded"]
        component.learner = facts["learner"]
        spec = facts["specification"]
        component.specification = (self.catalogue.local_ref(spec) or spec) if spec else None
        # a claim of the type not disclosed was withheld only if some digest stayed undisclosed (RFC 9901 §4.2.5:
        # withheld claims and decoys cannot be told apart); with every digest disclosed it is not in the credential
        details = (report.check("disclosures").details or {}) if report.check("disclosures") is not None else {}
        component.withheld = tuple(details.get("withheld") or []) if details.get("undisclosedDigests") else ()
        binding = report.check("holder_binding")
        if binding is not None and binding.outcome == "passed":
            component.holder_key = sd_jwt_vc.jwk_thumbprint_uri((claims.get("cnf") or {}).get("jwk") if isinstance(claims.get("cnf"), dict) else None)
        _verification_problems(component)
        if component.holder_key is None and report.check("proof") is not None and report.check("proof").outcome == "passed":
            why = (
                f"{_name(component)} is an SD-JWT VC presented without a Key Binding JWT signed by its holder key (cnf): nothing "
                "shows that the learner presenting it holds it (RFC 9901 §4.3, SD-JWT VC draft §3.2.2.2)"
            )
            component.problems.append(Problem("holder-binding", why, component.index))

    def _specification_of(self, credential_id: str | None, credential: dict[str, Any]) -> str | None:
        """The specification a component was issued against: this service's record of it, else the id of its
        achievement (OB3) or qualification (EDC), which another service's catalogue URL can name."""
        if credential_id:
            with self.db.read() as session:
                try:
                    stored = credential_store.get_credential(session, credential_id)
                except NotFoundError:
                    stored = None
            if stored is not None and stored.specification_id:
                return stored.specification_id
        return achievement_ref(credential)

    # -- the rules

    def _match(self, spec_id: str, rules: CompositeRules, components: list[Component]) -> None:
        """Each component refused as a duplicate or a cycle, matched to the first rule naming its specification (a
        rule filled once), then held to that rule: trust, EQF level, award date."""
        seen: dict[str, int] = {}
        taken: dict[int, int] = {}
        refs = [self.catalogue.local_ref(r.specification) or r.specification for r in rules.components]
        for c in components:
            name = _name(c)
            earlier = next((seen[k] for k in (c.digest, c.id) if k and k in seen), None)
            if earlier is not None:
                c.problems.append(Problem("duplicate", f"{name} is presented twice (as component {earlier} too)", c.index))
                continue
            seen.update({k: c.index for k in (c.digest, c.id) if k})
            if c.credential is None:
                continue
            if c.specification is None and "specification" in c.withheld:
                why = (
                    f"{name} does not disclose the claim specification (withheld, or not in the credential), which names what it was "
                    "issued for: no rule of the composite can be matched without it"
                )
                c.problems.append(Problem("disclosure", why, c.index, claim="specification"))
                continue
            if c.specification == spec_id:
                c.problems.append(Problem("cycle", f"{name} is the composite {spec_id} itself: a composite cannot be its own component", c.index))
                continue
            through = self._cycle_through(spec_id, c)
            if through is not None:
                why = f"{name} contains the composite {spec_id} itself, through {' → '.join(through)}: a composite cannot be its own component"
                c.problems.append(Problem("cycle", why, c.index))
                continue
            rule_index = next((i for i, ref in enumerate(refs) if c.specification is not None and ref == c.specification), None)
            if rule_index is None:
                why = f"{name} was issued for {c.specification or 'no known specification'}, which no rule of the composite names"
                c.problems.append(Problem("no-matching-rule", why, c.index))
                continue
            if rule_index in taken:
                why = (
                    f"{name} fills rule components/{rule_index} ({rules.components[rule_index].specification}), already filled by component {taken[rule_index]}"
                )
                c.problems.append(Problem("duplicate", why, c.index))
                continue
            c.rule, taken[rule_index] = rule_index, c.index
            c.problems.extend(_held_to(c, rules, rule_index))

    def _cycle_through(self, spec_id: str, c: Component) -> list[str] | None:
        """The way a component leads back to the composite ``spec_id`` at any depth, or ``None``: through the
        components its credential records (``parts_of``: this service's stored credential of each, its
        specification and its own recorded components) and through the catalogue rules of each composite
        specification met (a component's specification whose rules name ``spec_id``, directly or not)."""
        seen: set[tuple[str, str]] = set()
        todo: list[tuple[str | None, dict[str, Any] | None, list[str]]] = [(c.specification, c.credential, [])]
        steps = 0
        with self.db.read() as session:
            while todo and steps < MAX_CYCLE_STEPS:
                steps += 1
                spec, credential, path = todo.pop()
                local = (self.catalogue.local_ref(spec) or spec) if spec else None
                if local is not None and path and local == spec_id:
                    return path
                # the recorded components first, then the rules (a stack: the rules are followed first, and named)
                for part in parts_of(credential) if isinstance(credential, dict) else []:
                    if ("credential", part["id"]) in seen:
                        continue
                    seen.add(("credential", part["id"]))
                    part_spec, body = part.get("specification"), None
                    try:
                        stored = credential_store.get_credential(session, part["id"][:500])
                    except NotFoundError:
                        stored = None
                    if stored is not None:
                        part_spec = stored.specification_id or part_spec
                        body = _json_body(stored.body)
                    todo.append((part_spec if isinstance(part_spec, str) else None, body, [*path, f"its component {part['id']}"]))
                if local is not None and ("spec", local) not in seen:
                    seen.add(("spec", local))
                    for i, ref in enumerate(_rule_refs(session, local)):
                        todo.append((ref, None, [*path, f"specification {local} rule components/{i}"]))
        return None

    @staticmethod
    def _same_learner(components: list[Component], holder: str | None, learner_id: str | None) -> tuple[str | None, str, str]:
        """The learner the components share, and how that is known (``holder``: each is bound to the presenting
        holder; ``identifiers``: their learner identifiers agree, with no proof of who holds them)."""
        readable = [c for c in components if c.credential is not None]
        sd = [c for c in readable if c.format == sd_jwt_vc.FORMAT]
        w3c = [c for c in readable if c.format != sd_jwt_vc.FORMAT]
        expected = learner_id or holder or next((c.learner for c in readable if c.learner), None)
        who = "the learner of the composite" if learner_id else ("the presenting holder" if holder else "the other components")
        key = next((c.holder_key for c in sd if c.holder_key), None)
        for c in w3c:
            if c.learner != expected:
                c.problems.append(Problem("same-learner", f"{_name(c)} is of another learner ({c.learner or 'none named'}) than {who} ({expected})", c.index))
        for c in sd:
            _sd_learner_problems(c, sd, key, expected, who, identity_needed=learner_id is not None or bool(w3c))
        if sd and not w3c and key is not None and all(c.holder_key == key for c in sd):
            reason = "every component is an SD-JWT VC bound (cnf) to one holder key, which signed the Key Binding JWT of each presentation"
            return expected or key, "holder", reason
        if holder is not None and expected == holder and not sd:
            return expected, "holder", "every component's subject is the holder whose key signed the presentation"
        if expected is not None:
            return expected, "identifiers", "the components' learner identifiers agree; no presentation proof binds them to who presented them"
        return None, "none", "the components name no learner"

    @staticmethod
    def _unmet(rules: CompositeRules, components: list[Component]) -> list[Problem]:
        accepted = [c for c in components if c.accepted]
        unmet = []
        filled = {c.rule for c in accepted}
        for i, rule in enumerate(rules.components):
            if rule.required and i not in filled:
                unmet.append(Problem(f"components/{i}/required", f"the required component {rule.specification} is not among the accepted components"))
        if len(accepted) < rules.needed:
            unmet.append(Problem("minComponents", f"{len(accepted)} component(s) accepted; the composite needs {rules.needed}"))
        ects = sum(c.ects or 0 for c in accepted)
        if rules.minEcts is not None and ects < rules.minEcts:
            unmet.append(Problem("minEcts", f"{ects:g} ECTS accepted; the composite needs at least {rules.minEcts:g}"))
        return unmet


#: how many specifications and recorded components a cycle search visits for one component (a bound, never reached
#: by a real stack: a catalogue's composites nest a few levels deep)
MAX_CYCLE_STEPS = 500


def _unprocessable(detail: str, code: str, errors: list[dict[str, Any]]) -> MalformedValueError:
    exc = MalformedValueError(detail, code=code, errors=errors)
    exc.status = 422
    return exc


def _rule_refs(session, spec_id: str) -> list[str]:
    """The component references of a specification of this catalogue that is a composite (none otherwise)."""
    try:
        data = specifications.get_specification(session, spec_id[:64]).data
    except NotFoundError:
        return []
    rules = (data.get("composite") or {}).get("components") or []
    return [r["specification"] for r in rules if isinstance(r, dict) and isinstance(r.get("specification"), str)]


def _json_body(body: bytes) -> dict[str, Any] | None:
    """A stored credential's JSON (its recorded components are read from it); ``None`` for a JWT or other bytes."""
    if not body.startswith(b"{") or len(body) > MAX_STORED_BODY:
        return None
    try:
        value = strict_json.loads(body, max_bytes=MAX_STORED_BODY)
    except MicrocredError:
        return None
    return value if isinstance(value, dict) else None


MAX_STORED_BODY = 4 * 1024 * 1024

_BLOCKING = ("well_formed", "proof", "seal_certificate", "seal_trusted_list", "issuer_binding", "validity", "status", "type_metadata")


def _raw_components(vp: Any, listed: Any) -> list[Any]:
    """The components as sent: a presentation's ``verifiableCredential``, or the ``credentials`` list (4xx otherwise)."""
    if vp is None and listed is None:
        raise MalformedValueError(
            "the learner's components go in 'presentation' (a verifiable presentation), 'credentials' (a list) or "
            "'presentationRequestId' (an answered OpenID4VP request)",
            errors=[{"pointer": "/presentation", "detail": "required"}],
        )
    if vp is not None:
        if not isinstance(vp, dict) or "VerifiablePresentation" not in _types(vp):
            raise MalformedValueError(
                "presentation must be a verifiable presentation (type VerifiablePresentation)",
                errors=[{"pointer": "/presentation", "detail": "not a presentation"}],
            )
        raw = vp.get("verifiableCredential") or []
        raw = raw if isinstance(raw, list) else [raw]
    else:
        if not isinstance(listed, list):
            raise MalformedValueError("credentials must be an array", errors=[{"pointer": "/credentials", "detail": "array"}])
        raw = listed
    if not raw:
        raise MalformedValueError("no components were presented", errors=[{"pointer": "/presentation/verifiableCredential", "detail": "empty"}])
    if len(raw) > MAX_PRESENTATION_CREDENTIALS:
        raise MalformedValueError(
            f"at most {MAX_PRESENTATION_CREDENTIALS} components are evaluated",
            errors=[{"pointer": "/presentation/verifiableCredential", "detail": "too many"}],
        )
    return raw


def _sd_learner_problems(c: Component, sd: list[Component], key: str | None, expected: str | None, who: str, *, identity_needed: bool) -> None:
    """An SD-JWT VC component held to the same learner: bound to the holder key of the others (``key``), and naming
    ``expected`` in ``learner_id`` where the key alone does not tie it to the learner (``identity_needed``: the
    composite names its learner, or W3C components name theirs)."""
    name = _name(c)
    if c.holder_key is not None and c.holder_key != key:
        first = next(x.index for x in sd if x.holder_key == key)
        why = f"{name} is bound to another holder key ({c.holder_key}) than component {first} ({key}): another learner's credential"
        c.problems.append(Problem("same-learner", why, c.index))
    if c.learner is None and identity_needed:
        if "learner_id" in c.withheld:
            why = f"{name} does not disclose the claim learner_id (withheld, or not in the credential), which shows it is of {who} ({expected})"
            c.problems.append(Problem("disclosure", why, c.index, claim="learner_id"))
        else:
            c.problems.append(Problem("same-learner", f"{name} names no learner, where {who} is {expected}", c.index))
    elif c.learner is not None and expected is not None and c.learner != expected:
        c.problems.append(Problem("same-learner", f"{name} is of another learner ({c.learner}) than {who} ({expected})", c.index))


def _is_sd_jwt(item: Any) -> bool:
    """An SD-JWT (VC) as presented: ``<JWT>~<Disclosure>~…~<KB-JWT>`` (RFC 9901 §4), length-capped."""
    return isinstance(item, str) and "~" in item and item.split("~", 1)[0].count(".") == 2 and len(item) <= MAX_SD_JWT_CHARS


#: the longest SD-JWT presentation a component is read from (the pipeline's cap on any input)
MAX_SD_JWT_CHARS = 1_048_576


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) <= 500 else None


def _verification_problems(component: Component) -> None:
    """The blocking checks a component fails, each as the rule it breaks (status, validity, else verification)."""
    name = _name(component)
    for check in component.report.checks:
        if check.outcome in ("failed", "indeterminate") and check.id in _BLOCKING:
            rule = _VERIFICATION_RULES.get(check.id, "verification")
            what = {"status": "its status", "validity": "its validity period"}.get(check.id, f"its {check.id.replace('_', ' ')}")
            component.problems.append(Problem(rule, f"{name}: {what} fails: {check.reason}", component.index))


def _name(c: Component) -> str:
    return f"component {c.index} ({_text(c.title) or c.id or 'untitled'})"


def _held_to(c: Component, rules: CompositeRules, rule_index: int) -> list[Problem]:
    """What a matched component breaks of its rule and of the composite's: trust, least EQF level, oldest award date."""
    name, rule, out = _name(c), rules.components[rule_index], []
    min_eqf = rule.minEqf or rules.minEqf
    if c.format == sd_jwt_vc.FORMAT:
        needs = [
            ("workload", c.ects is None and rules.minEcts is not None, "minEcts", "its ECTS"),
            ("level", c.eqf is None and min_eqf is not None, f"components/{rule_index}/minEqf" if rule.minEqf else "minEqf", "its EQF level"),
            ("date_of_issuance", c.awarded is None and rules.awardedAfter is not None, "awardedAfter", "its award date"),
        ]
        withheld = [(claim, where, what) for claim, needed, where, what in needs if needed and claim in c.withheld]
        for claim, where, what in withheld:
            why = f"{name} does not disclose the claim {claim} ({what}; withheld, or not in the credential), which the rule {where} needs"
            out.append(Problem("disclosure", why, c.index, claim=claim))
        if withheld:
            return out
    if rules.trustRequired:
        trust = c.report.check("issuer_trust")
        if trust is None or trust.outcome != "passed":
            why = trust.reason if trust is not None else "no trust check ran"
            out.append(Problem("trustRequired", f"{name}: its issuer {c.issuer} is not a trusted provider ({why}), and the composite requires trust", c.index))
    if min_eqf is not None and (c.eqf is None or c.eqf < min_eqf):
        where = f"components/{rule_index}/minEqf" if rule.minEqf else "minEqf"
        out.append(Problem(where, f"{name} is at EQF level {c.eqf or 'none'}, below the {min_eqf} required", c.index))
    oldest = rules.awardedAfter
    if oldest is not None:
        awarded = _parsed(c.awarded)
        if awarded is None or awarded < oldest:
            when = f"{c.awarded or 'an unknown date'}, before the oldest date accepted, {format_datetime_stamp(oldest)}"
            out.append(Problem("awardedAfter", f"{name} was awarded on {when}", c.index))
    return out


def _parsed(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_datetime_stamp(value, field="awardedAt")
    except MicrocredError:
        return None


def _proof_binding(vp: dict[str, Any], body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The challenge and domain the presentation's proof must carry: the caller's (``challenge``/``domain``), else
    the proof's own (the provider then answers for freshness: nothing leaves it by an evaluation)."""
    proof = vp.get("proof")
    proof = proof[0] if isinstance(proof, list) and proof else proof
    proof = proof if isinstance(proof, dict) else {}
    challenge = body.get("challenge", proof.get("challenge"))
    domain = body.get("domain", proof.get("domain"))
    for name, value in (("challenge", challenge), ("domain", domain)):
        if value is not None and (not isinstance(value, str) or len(value) > 500):
            raise MalformedValueError(f"{name} must be a string", errors=[{"pointer": f"/{name}", "detail": "string"}])
    return challenge, domain
