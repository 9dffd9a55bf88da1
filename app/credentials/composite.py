"""A composite (stacked) micro-credential: the components it was awarded over, recorded in each rendering.

Council Recommendation 2022/C 243/02 Annex I, optional element "integration / stackability options". Each component
is recorded with its id, issuer, title, workload and the digest of its exact bytes (``Part.digest``, W3C SRI):

* Open Badges 3.0: VC 2.0 §5.3 ``relatedResource`` (``id`` + ``digestSRI``) for each component, and one
  ``achievement.alignment`` of type ``ext:StackComponent`` each with its title, issuer and workload (the validator-
  safe way of model doc §4: no extra context);
* Europass EDC (ELM 3.2): the composite's ``LearningAchievement`` ``hasPart`` one ``LearningAchievement`` per
  component (title, awarding body and date, its credential id and digest as ``identifier``s), specified by a
  ``Qualification`` with its credit points that ``isPartOf`` the composite's; the composite's ``Qualification``
  ``hasPart`` those;
* 1EdTech CLR 2.0: a ``ClrCredential`` whose ``credentialSubject.verifiableCredential`` holds the components that are
  Open Badges credentials as presented (``clr_embeddable``: an EDC, a vc+jwt or an SD-JWT VC component is not an
  AchievementCredential; it is recorded, not embedded, and a composite with none to embed has no CLR rendering),
  whose ``achievement`` lists the composite's achievement and every
  component's, and whose ``association``s say ``isParentOf`` from the composite to each component (CLR 2.0 §B.1.3).

Domain code: no HTTP, no SQL.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785

from app.credentials import vocab
from app.credentials.edc import Nodes, concept
from app.credentials.model import MicroCredentialInput
from app.credentials.open_badges import OB3_CONTEXT, render_ob3
from app.credentials.profile import IssuerProfile

__all__ = [
    "CLR_CONTEXT",
    "CLR_SCHEMA",
    "Part",
    "add_parts_edc",
    "add_parts_ob3",
    "clr_embeddable",
    "digest_sri",
    "parts_of",
    "render_clr",
    "sd_jwt_component_id",
    "sd_jwt_presented",
]

CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
#: The schema a CLR validates against (contexts/clr_v2p0_clrcredential_schema.json). Not named in ``credentialSchema``:
#: its type, 1EdTechJsonSchemaValidator2019, is defined by no context a CLR names (the OB 3.0 extensions context has
#: it), so a signed CLR would lose it in JSON-LD expansion.
CLR_SCHEMA = {"id": "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json", "type": "1EdTechJsonSchemaValidator2019"}
#: ``targetType`` of the alignment an OB3 composite records a component with (the schema's EnumExt ``ext:`` form)
STACK_COMPONENT = "ext:StackComponent"
DIGEST_SCHEME = "sha384 digest (W3C SRI) of the component credential"
ID_SCHEME = "Component credential"


def digest_sri(item: Any) -> str:
    """W3C SRI §3.5 sha384 of a component's exact bytes: a compact JWS as sent, a JSON credential in its RFC 8785
    (JCS) form, which every holder that keeps the JSON value reproduces whatever its whitespace or key order, and an
    SD-JWT VC as ``sd_jwt_presented`` makes it (what the learner disclosed, without the Key Binding JWT)."""
    if isinstance(item, str) and "~" in item:
        item = sd_jwt_presented(item)
    data = item.encode("ascii") if isinstance(item, str) else rfc8785.dumps(item)
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def sd_jwt_presented(token: str) -> str:
    """The part of an SD-JWT presentation (RFC 9901 §4) a composite records the digest of: the Issuer-signed JWT
    and the Disclosures presented, in the SD-JWT's own ``<JWT>~<D1>~…~<Dn>~`` form, without the Key Binding JWT
    (made afresh for every verifier, §4.3: another nonce each time) and with the Disclosures in sorted order (RFC 9901
    §4 leaves their order free, so a wallet presenting the same Disclosures again may order them otherwise). The same
    credential presented with other Disclosures is another set of bytes: the composite was awarded over what was
    disclosed."""
    jwt, *rest = token.split("~")
    disclosures = sorted(d for d in rest[:-1] if d)
    return jwt + "~" + "".join(d + "~" for d in disclosures)


def sd_jwt_component_id(token: str) -> str:
    """The id a composite records an SD-JWT VC component by (it has no ``id`` claim): the RFC 6920 §3 Named
    Information URI of its Issuer-signed JWT (``ni:///sha-256;…``), the same whatever the learner discloses."""
    jwt = token.split("~", 1)[0]
    digest = base64.urlsafe_b64encode(hashlib.sha256(jwt.encode("ascii")).digest()).rstrip(b"=").decode("ascii")
    return "ni:///sha-256;" + digest


def clr_embeddable(credential: Any) -> str | None:
    """Why a component cannot go into a CLR 2.0 ``ClrSubject.verifiableCredential`` (``None`` when it can): CLR 2.0
    §B.1.3 defines that list as the AchievementCredentials the CLR holds, each a JSON VC with its embedded proof;
    an Europass EDC, an enveloped (vc+jwt) credential and an SD-JWT VC are none."""
    if isinstance(credential, str):
        if "~" in credential:
            return "it is an SD-JWT VC, not an AchievementCredential (CLR 2.0 ClrSubject.verifiableCredential holds AchievementCredentials)"
        return "it is a compact JWS, not an AchievementCredential with an embedded proof (CLR 2.0 ClrSubject.verifiableCredential)"
    kinds = credential.get("type") if isinstance(credential, dict) else None
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "EnvelopedVerifiableCredential" in kinds:
        return "it is an enveloped (vc+jwt) credential, not an AchievementCredential with an embedded proof (CLR 2.0 ClrSubject.verifiableCredential)"
    if "OpenBadgeCredential" in kinds or "AchievementCredential" in kinds:
        return None
    return "it is not an Open Badges 3.0 AchievementCredential (a Europass EDC, say), which is all CLR 2.0 ClrSubject.verifiableCredential holds"


@dataclass(frozen=True)
class Part:
    """One component as the composite records it."""

    id: str
    issuer: str
    issuer_name: str | None
    title: dict[str, str]
    ects: float | None
    digest: str
    awarded: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2 of the awarding body, when the component says
    specification: str | None = None
    credential: Any = None  # the component as presented (an OB3 JSON credential is embedded in a CLR)

    def text(self, lang: str) -> str:
        return self.title.get(lang) or next(iter(self.title.values()), self.id)


#: how ``_description`` reads back (an alignment has no field for an issuer or a workload)
_DESCRIBED = re.compile(r"^a component issued by (?P<name>.*) \((?P<issuer>[^()\s]+)\)(?:, (?P<ects>[0-9]+(?:\.[0-9]+)?) ECTS)?; sha")


def _description(part: Part) -> str:
    workload = f", {part.ects:g} ECTS" if part.ects is not None else ""
    return f"a component issued by {part.issuer_name or part.issuer} ({part.issuer}){workload}; {part.digest}"


def add_parts_ob3(credential: dict[str, Any], parts: list[Part], lang: str) -> dict[str, Any]:
    """An OB3 rendering with its components: ``relatedResource`` and one ``ext:StackComponent`` alignment each."""
    credential["relatedResource"] = [{"id": p.id, "digestSRI": p.digest} for p in parts]
    achievement = credential["credentialSubject"]["achievement"]
    achievement["alignment"] = [
        *achievement.get("alignment", []),
        *(
            {
                "type": ["Alignment"],
                "targetName": p.text(lang),
                "targetUrl": p.id,
                "targetType": STACK_COMPONENT,
                "targetDescription": _description(p),
                **({"targetCode": p.specification} if p.specification else {}),
            }
            for p in parts
        ),
    ]
    return credential


def add_parts_edc(credential: dict[str, Any], parts: list[Part], mc: MicroCredentialInput) -> dict[str, Any]:
    """An EDC rendering with its components: ``hasPart`` on the achievement and on its qualification (ELM 3.2)."""
    n = Nodes()
    claim = credential["credentialSubject"]["hasClaim"]
    qualification = claim["specifiedBy"]
    fallback_country = credential["issuer"]["location"]["address"]["countryCode"]
    achievements, specs = [], []
    for p in parts:
        title = dict(p.title) if p.title else {mc.primaryLanguage: p.id}
        credit = None
        if p.ects is not None:
            credit = n.node("creditPoint", "CreditPoint", framework=concept(vocab.credit_systems()["ECTS"]), point=f"{p.ects:g}")
        spec = n.node(
            "qualification",
            "Qualification",
            title=title,
            creditPoint=credit,
            isPartOf=[{"id": qualification["id"], "type": "Qualification", "title": dict(mc.title)}],
        )
        if p.specification and "://" in p.specification:
            spec["homepage"] = n.node("webResource", "WebResource", contentURL=p.specification)
        specs.append(spec)
        country = concept(vocab.country(p.country)) if p.country and vocab.is_country(p.country) else fallback_country
        body = {
            "id": n.id("org"),
            "type": "Organisation",
            "legalName": {mc.primaryLanguage: p.issuer_name or p.issuer},
            "location": n.node("location", "Location", address=n.node("address", "Address", countryCode=country)),
            "identifier": [n.node("identifier", "Identifier", schemeName="DID", notation=p.issuer)],
        }
        process = n.node("awardingProcess", "AwardingProcess", awardingBody=[body], awardingDate=p.awarded)
        achievements.append(
            n.node(
                "learningAchievement",
                "LearningAchievement",
                title=title,
                awardedBy=process,
                specifiedBy=spec,
                identifier=[
                    n.node("identifier", "Identifier", schemeName=ID_SCHEME, notation=p.id),
                    n.node("identifier", "Identifier", schemeName=DIGEST_SCHEME, notation=p.digest),
                ],
            )
        )
    claim["hasPart"] = achievements
    qualification["hasPart"] = [{"id": s["id"], "type": "Qualification", "title": s["title"]} for s in specs]
    return credential


def render_clr(
    mc: MicroCredentialInput,
    parts: list[Part],
    *,
    issuer: IssuerProfile,
    credential_id: str,
    issued: datetime,
    status_entry: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The unsigned 1EdTech CLR 2.0 ``ClrCredential`` of a composite (CLR 2.0 §B.1.1-B.1.3)."""
    ob3 = add_parts_ob3(render_ob3(mc, issuer=issuer, credential_id=credential_id, issued=issued, status_entry=status_entry), parts, mc.primaryLanguage)
    composite = ob3["credentialSubject"]["achievement"]
    embedded = [p.credential for p in parts if clr_embeddable(p.credential) is None]
    achievements: list[dict[str, Any]] = [composite]
    associations = []
    for p in parts:
        target = _component_achievement(p, mc.primaryLanguage)
        if all(a["id"] != target["id"] for a in achievements):
            achievements.append(target)
        associations.append({"type": "Association", "associationType": "isParentOf", "sourceId": composite["id"], "targetId": target["id"]})
    subject: dict[str, Any] = {"type": ["ClrSubject"]}
    if mc.learner.id:
        subject["id"] = mc.learner.id
    subject["identifier"] = ob3["credentialSubject"]["identifier"]
    subject["achievement"] = achievements
    subject["verifiableCredential"] = embedded
    subject["association"] = associations
    credential: dict[str, Any] = {
        "@context": [OB3_CONTEXT[0], CLR_CONTEXT, *OB3_CONTEXT[1:]],
        "id": credential_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": ob3["name"],
        "description": composite["description"],
        "issuer": ob3["issuer"],
        "validFrom": ob3["validFrom"],
        "credentialSubject": subject,
        "relatedResource": ob3["relatedResource"],
    }
    for key in ("validUntil", "credentialStatus"):
        if key in ob3:
            credential[key] = ob3[key]
    return credential


def _component_achievement(part: Part, lang: str) -> dict[str, Any]:
    """A component's achievement for the CLR's list: the OB3 one it carries, else one made of what is recorded."""
    cred = part.credential if isinstance(part.credential, dict) else {}
    subject = cred.get("credentialSubject") if isinstance(cred.get("credentialSubject"), dict) else {}
    achievement = subject.get("achievement")
    if isinstance(achievement, dict) and isinstance(achievement.get("id"), str):
        return achievement
    out: dict[str, Any] = {
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, part.id)}",
        "type": ["Achievement"],
        "name": part.text(lang),
        "description": _description(part),
        "criteria": {"narrative": f"Awarded by {part.issuer_name or part.issuer} on {part.awarded or 'an unrecorded date'}."},
    }
    if part.ects is not None:
        out["creditsAvailable"] = float(part.ects)
    return out


def parts_of(credential: dict[str, Any]) -> list[dict[str, Any]]:
    """The components a composite credential records (any of the three renderings): ``id``, ``digestSRI``, ``title``,
    ``issuer``, ``ects`` as far as the rendering says; an empty list for a credential that is not a composite."""
    out: dict[str, dict[str, Any]] = {}
    for r in credential.get("relatedResource") or []:
        if isinstance(r, dict) and isinstance(r.get("id"), str):
            out[r["id"]] = {"id": r["id"], "digestSRI": r.get("digestSRI")}
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    _read_alignments(subject, out)
    _read_has_part(subject, out)
    return list(out.values())


def _read_alignments(subject: dict[str, Any], out: dict[str, dict[str, Any]]) -> None:
    """OB3 and CLR: the ``ext:StackComponent`` alignments of the composite's achievement (a CLR's first)."""
    achievement = subject.get("achievement")
    achievement = achievement[0] if isinstance(achievement, list) and achievement else achievement
    alignments = achievement.get("alignment") if isinstance(achievement, dict) else None
    for a in alignments if isinstance(alignments, list) else []:
        if not (isinstance(a, dict) and a.get("targetType") == STACK_COMPONENT and a.get("targetUrl") in out):
            continue
        entry = out[a["targetUrl"]]
        entry.update(title=a.get("targetName"), description=a.get("targetDescription"), specification=a.get("targetCode"))
        said = _DESCRIBED.match(a.get("targetDescription") or "")
        if said:
            entry.update(issuerName=said["name"], issuer=said["issuer"], ects=float(said["ects"]) if said["ects"] else None)


def _read_has_part(subject: dict[str, Any], out: dict[str, dict[str, Any]]) -> None:
    """EDC: the ``hasPart`` achievements of the claim, with their credential id and digest identifiers."""
    claim = subject.get("hasClaim")
    parts = claim.get("hasPart") if isinstance(claim, dict) else None
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict):
            continue
        ids = {i.get("schemeName"): i.get("notation") for i in part.get("identifier") or [] if isinstance(i, dict)}
        if not ids.get(ID_SCHEME):
            continue
        body = ((part.get("awardedBy") or {}).get("awardingBody") or [{}])[0]
        points = ((part.get("specifiedBy") or {}).get("creditPoint") or {}).get("point")
        out[ids[ID_SCHEME]] = {
            "id": ids[ID_SCHEME],
            "digestSRI": ids.get(DIGEST_SCHEME),
            "title": part.get("title"),
            "issuer": next((i.get("notation") for i in body.get("identifier") or [] if i.get("schemeName") == "DID"), None),
            "issuerName": body.get("legalName"),
            "ects": float(points) if points else None,
        }
