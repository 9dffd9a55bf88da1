"""Stacking SD-JWT VC components (issue 17) through the live service: SD-JWT VCs issued by two providers (did:web
ES256, did:key EdDSA) to one holder key, presented with Key Binding JWTs as a list, inside a signed presentation
(EnvelopedVerifiableCredential ``data:application/dc+sd-jwt,…``) and through an OpenID4VP ``dc+sd-jwt`` answer;
evaluated, the composite issued over them and verified with them; and every bad input refused by name (a withheld
claim a rule needs, another learner's SD-JWT, a tampered Disclosure, no Key Binding JWT, a revoked component)."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import jsonschema
import pytest

from app.keys import P256Signer
from app.proofs import sd_jwt
from app.vcdm import VC2
from tests.api.test_stacking import Stack, _composite_check, _problems, _verify_vp
from tests.conftest import ROOT

NONCE, AUD = "sd-stack-nonce", "https://provider.example"


class SdStack(Stack):
    """The stack of test_stacking.py, its learner also holding a P-256 key its SD-JWT VCs are bound to."""

    def __init__(self, live, example_input):
        super().__init__(live, example_input)
        self.key_signer = P256Signer.generate()

    def sd_component(self, client, spec_id: str, *, learner_id: str | None = None, holder=None) -> tuple[str, str]:
        """(SD-JWT as issued, its credential id) of ``spec_id`` for the learner, bound to ``holder`` (default theirs)."""
        jwk = (holder or self.key_signer).public_jwk()
        body = {"format": "sd-jwt", "holder": {"jwk": jwk}, "specificationId": spec_id, "issuance": self.issuance(learner_id)}
        r = client.post("/microcredentials", json=body)
        assert r.status_code == 201, r.text
        assert r.headers["content-type"].startswith("application/dc+sd-jwt")
        return r.text, r.headers["location"].removeprefix("/credentials/")

    def present(self, token: str, *, withhold: tuple[str, ...] = (), holder=None, nonce: str = NONCE, aud: str = AUD, kb: bool = True) -> str:
        """The learner's presentation: every Disclosure but those of ``withhold``, with a Key Binding JWT."""
        return sd_jwt.present(token, lambda name, _: name not in withhold, holder=(holder or self.key_signer) if kb else None, aud=aud, nonce=nonce)


def _envelope(presentation: str) -> dict:
    return {"@context": [VC2], "id": "data:application/dc+sd-jwt," + presentation, "type": "EnvelopedVerifiableCredential"}


def _ni(token: str) -> str:
    jwt = token.split("~", 1)[0]
    return "ni:///sha-256;" + base64.urlsafe_b64encode(hashlib.sha256(jwt.encode()).digest()).rstrip(b"=").decode()


def _digest(presentation: str) -> str:
    """Independently: sha384 over the Issuer-signed JWT and the Disclosures presented, sorted, without the KB-JWT."""
    jwt, *disclosures, _kb = presentation.split("~")
    data = jwt + "~" + "".join(d + "~" for d in sorted(disclosures))
    return "sha384-" + base64.b64encode(hashlib.sha384(data.encode()).digest()).decode()


@pytest.fixture
def sd(live, example_input):
    s = SdStack(live, example_input)
    yield s
    s.close()


def _evaluate(sd: SdStack, presentations: list, **extra) -> dict:
    body = {"specificationId": sd.composite, "credentials": presentations, "challenge": NONCE, "domain": AUD, **extra}
    r = sd.web.post("/stacks/evaluate", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_sd_jwt_components_are_evaluated_and_the_composite_issued_and_verified_over_them(live, sd):
    a, _ = sd.sd_component(sd.web, sd.module_a)
    b, _ = sd.sd_component(sd.key, sd.module_b)
    pa, pb = sd.present(a), sd.present(b, withhold=("grade", "date_of_birth"))  # what no rule needs may be withheld

    report = _evaluate(sd, [pa, pb])
    assert report["eligible"], report["problems"]
    assert report["learner"]["sameLearner"] == "holder" and "one holder key" in report["learner"]["reason"]
    assert report["learner"]["id"] == sd.did and report["sums"]["ects"] == 5
    components = report["components"]
    assert [c["format"] for c in components] == ["sd-jwt", "sd-jwt"] and [c["id"] for c in components] == [_ni(a), _ni(b)]
    assert [c["digestSRI"] for c in components] == [_digest(pa), _digest(pb)]
    assert [c["specification"] for c in components] == [sd.module_a, sd.module_b] and [c["ects"] for c in components] == [2, 3]
    assert components[0]["holderKey"].startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-256:")
    assert {"grade", "date_of_birth"} <= set(components[1]["withheldClaims"]) and components[0]["issuer"] == sd.web_record.did
    assert {c["id"]: c["outcome"] for c in components[1]["checks"]}["holder_binding"] == "passed"

    # The Key Binding JWTs were made for another nonce than the one the provider expects: refused, each by name.
    wrong = _evaluate(sd, [pa, pb], challenge="another-nonce")
    assert {(0, "verification"), (1, "verification")} <= set(_problems(wrong)) and "nonce" in wrong["problems"][0]["detail"], wrong["problems"]

    # The composite, over the very bytes presented: recorded by id (RFC 6920 URI of the Issuer-signed JWT) and digest.
    count = len(sd.web.get("/credentials").json()["items"])
    body = {"format": "ob3", "specificationId": sd.composite, "issuance": sd.issuance(), "credentials": [pa, pb], "challenge": NONCE, "domain": AUD}
    composite = sd.web.post("/microcredentials", json=body)
    assert composite.status_code == 201, composite.text
    assert composite.json()["relatedResource"] == [{"id": _ni(a), "digestSRI": _digest(pa)}, {"id": _ni(b), "digestSRI": _digest(pb)}]
    assert composite.json()["credentialSubject"]["achievement"]["creditsAvailable"] == 5
    assert len(sd.web.get("/credentials").json()["items"]) == count + 1

    # Verified with its components beside it (each an SD-JWT in an EnvelopedVerifiableCredential): digest, signature,
    # status of each; a component presented with other Disclosures is another set of bytes than the one awarded over.
    vp = sd.presentation([composite.json(), _envelope(pa), _envelope(pb)])
    verified = _verify_vp(live, vp)
    tree = _composite_check(verified["credentials"][0])["details"]["components"]
    assert verified["verified"] and [(t["state"], t["presented"], t["issuer"]) for t in tree] == [
        ("verified", True, sd.web_record.did),
        ("verified", True, sd.key_record.did),
    ], tree
    # the same Disclosures in another order (and a Key Binding JWT of its own) are the same component
    jwt, *disclosures, _ = pb.split("~")
    reordered = sd_jwt.present(jwt + "~" + "".join(d + "~" for d in reversed(disclosures)), lambda *_: True, holder=sd.key_signer, aud=AUD, nonce=NONCE)
    assert reordered != pb and _digest(reordered) == _digest(pb)
    tree = _composite_check(_verify_vp(live, sd.presentation([composite.json(), _envelope(reordered)]))["credentials"][0])["details"]["components"]
    assert [t["state"] for t in tree] == ["not presented", "verified"]
    fewer = sd.present(b, withhold=("grade", "date_of_birth", "email"))
    check = _composite_check(_verify_vp(live, sd.presentation([composite.json(), _envelope(pa), _envelope(fewer)]))["credentials"][0])
    assert check["outcome"] == "failed" and [t["state"] for t in check["details"]["components"]] == ["verified", "digest differs"]


def test_sd_jwt_components_inside_a_signed_presentation_and_mixed_with_w3c_ones(sd):
    """An SD-JWT VC inside a Data Integrity presentation: its Key Binding JWT for the presentation's challenge and
    domain. Beside a W3C component the learner identifiers must agree (the key and the DID are two bindings)."""
    a_w3c = sd.component(sd.web, sd.module_a)
    b, _ = sd.sd_component(sd.key, sd.module_b)
    pb = sd.present(b, nonce="stack-challenge", aud="provider.example")
    r = sd.evaluate([_envelope(sd.present(sd.sd_component(sd.web, sd.module_a)[0], nonce="stack-challenge", aud="provider.example")), _envelope(pb)])
    assert r.status_code == 200 and r.json()["eligible"] and r.json()["learner"]["sameLearner"] == "holder", r.json()["problems"]
    mixed = sd.evaluate([a_w3c, _envelope(pb)]).json()
    assert mixed["eligible"] and mixed["learner"]["sameLearner"] == "identifiers", mixed["problems"]
    # a KB-JWT made for another audience than the presentation's domain
    elsewhere = sd.evaluate([a_w3c, _envelope(sd.present(b, nonce="stack-challenge", aud="https://elsewhere.example"))]).json()
    assert (1, "verification") in _problems(elsewhere) and "aud" in elsewhere["problems"][0]["detail"], elsewhere["problems"]
    # the learner withholds learner_id beside a W3C component: the claim is named
    hidden = sd.evaluate([a_w3c, _envelope(sd.present(b, withhold=("learner_id",), nonce="stack-challenge", aud="provider.example"))]).json()
    assert [(p["component"], p["rule"], p.get("claim")) for p in hidden["problems"] if "component" in p] == [(1, "disclosure", "learner_id")]


def test_bad_sd_jwt_components_are_refused_by_name(live, sd):
    a, _ = sd.sd_component(sd.web, sd.module_a)
    b, b_id = sd.sd_component(sd.key, sd.module_b)
    pa = sd.present(a)

    # A claim a rule needs, withheld: the workload (minEcts), the level (minEqf), the specification (every rule).
    for claim, rule_claims in [("workload", [(1, "disclosure", "workload")]), ("level", [(1, "disclosure", "level")])]:
        report = _evaluate(sd, [pa, sd.present(b, withhold=(claim,))])
        assert [(p["component"], p["rule"], p.get("claim")) for p in report["problems"] if "component" in p] == rule_claims, report["problems"]
        assert f"does not disclose the claim {claim}" in report["problems"][0]["detail"] and not report["eligible"]
    report = _evaluate(sd, [pa, sd.present(b, withhold=("specification",))])
    assert [(p["component"], p["rule"], p.get("claim")) for p in report["problems"] if "component" in p] == [(1, "disclosure", "specification")]
    # the composite names its learner: a component withholding learner_id cannot be shown to be theirs
    body = {"format": "ob3", "specificationId": sd.composite, "issuance": sd.issuance(), "challenge": NONCE, "domain": AUD}
    count = len(sd.web.get("/credentials").json()["items"])
    refused = sd.web.post("/microcredentials", json=dict(body, credentials=[pa, sd.present(b, withhold=("learner_id",))]))
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json"), refused.text
    assert [(e["pointer"], e["rule"], e.get("claim")) for e in refused.json()["errors"] if e["pointer"] != "/specificationId"] == [
        ("/presentation/verifiableCredential/1", "disclosure", "learner_id")
    ]

    # Another learner's SD-JWT: bound to their key (they made its Key Binding JWT), naming them.
    other = P256Signer.generate()
    theirs, _ = sd.sd_component(sd.key, sd.module_b, learner_id="did:example:someone-else", holder=other)
    report = _evaluate(sd, [pa, sd.present(theirs, holder=other)])
    assert _problems(report) == [(1, "same-learner"), (1, "same-learner")], report["problems"]
    assert "another holder key" in report["problems"][0]["detail"] and "did:example:someone-else" in report["problems"][1]["detail"]
    # presented without a Key Binding JWT: nothing shows the presenter holds it
    report = _evaluate(sd, [pa, sd.present(theirs, kb=False)], challenge=None, domain=None)
    assert (1, "holder-binding") in _problems(report), report["problems"]
    # one learner's SD-JWT presented by another with a KB-JWT of the other's key: the signature by cnf fails
    report = _evaluate(sd, [pa, sd.present(theirs)])
    assert (1, "verification") in _problems(report), report["problems"]

    # A tampered Disclosure (the workload raised): its digest is in no _sd array, the SD-JWT does not verify.
    jwt, *disclosures, _ = sd.present(b, kb=False).split("~")
    changed = []
    for d in disclosures:
        salt, name, value = json.loads(base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)))
        if name == "workload":
            value = dict(value, credits=30)
            d = base64.urlsafe_b64encode(json.dumps([salt, name, value]).encode()).rstrip(b"=").decode()
        changed.append(d)
    tampered = sd_jwt.present(jwt + "~" + "".join(x + "~" for x in changed), lambda *_: True, holder=sd.key_signer, aud=AUD, nonce=NONCE)
    report = _evaluate(sd, [pa, tampered])
    assert _problems(report)[0] == (1, "verification") and "proof" in report["problems"][0]["detail"], report["problems"]

    # Revoked by its issuer: refused by its status (Token Status List), and nothing is issued.
    assert sd.key.post("/credentials/status", json={"credentialId": b_id, "status": "revoked"}).status_code == 200
    report = _evaluate(sd, [pa, sd.present(b)])
    assert _problems(report) == [(1, "status")] and not report["eligible"], report["problems"]
    refused = sd.web.post("/microcredentials", json=dict(body, credentials=[pa, sd.present(b)]))
    assert refused.status_code == 422 and {e["rule"] for e in refused.json()["errors"] if e["pointer"] != "/specificationId"} == {"status"}
    assert len(sd.web.get("/credentials").json()["items"]) == count  # a refused request stores nothing


def test_components_from_an_answered_openid4vp_dc_sd_jwt_request(live, sd):
    """Any wallet answering the OpenID4VP request with dc+sd-jwt presentations (DCQL ``multiple``) gives components:
    each verified again now against the request's nonce."""
    a, _ = sd.sd_component(sd.web, sd.module_a)
    b, b_id = sd.sd_component(sd.key, sd.module_b)
    vct = live.url + "/vct/eu-microcredential/v1"
    query = {"credentials": [{"id": "components", "format": "dc+sd-jwt", "multiple": True, "meta": {"vct_values": [vct]}}]}
    request = {"verifier_name": "University of Web", "purpose": "Modules", "dcql_query": query}
    created = httpx.post(f"{live.url}/presentation-requests", json=request, timeout=30)
    assert created.status_code == 201, created.text
    part = httpx.get(created.json()["request_uri"], timeout=30).text.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    presented = [sd.present(t, nonce=claims["nonce"], aud=claims["client_id"]) for t in (a, b)]
    form = {"state": claims["state"], "vp_token": json.dumps({"components": presented})}
    assert httpx.post(claims["response_uri"], data=form, timeout=60).status_code == 200
    status = httpx.get(created.json()["status_url"], timeout=30).json()
    assert status["status"] == "received" and all("vp" not in p for p in status["result"]["presentations"])

    by_request = {"specificationId": sd.composite, "presentationRequestId": created.json()["id"]}
    report = sd.web.post("/stacks/evaluate", json=by_request).json()
    assert report["eligible"] and report["learner"]["sameLearner"] == "holder", report["problems"]
    assert [c["digestSRI"] for c in report["components"]] == [_digest(p) for p in presented]

    # CLR 2.0 embeds AchievementCredentials only: with none among the components it is refused, naming each.
    count = len(sd.web.get("/credentials").json()["items"])
    clr = sd.web.post("/microcredentials", json={"format": "clr", "issuance": sd.issuance(), **by_request})
    assert clr.status_code == 422 and clr.json()["code"] == "CLR_NOT_EMBEDDABLE", clr.text
    errors = clr.json()["errors"]
    assert errors[0]["pointer"] == "/format" and [e["pointer"] for e in errors[1:]] == [f"/presentation/verifiableCredential/{i}" for i in (0, 1)]
    assert all("SD-JWT VC" in e["detail"] and "AchievementCredential" in e["detail"] for e in errors[1:])
    assert "Module A: data literacy" in errors[1]["detail"] and len(sd.web.get("/credentials").json()["items"]) == count

    edc = sd.web.post("/microcredentials", json={"format": "edc", "issuance": sd.issuance(), **by_request})
    assert edc.status_code == 201, edc.text
    parts = edc.json()["credentialSubject"]["hasClaim"]["hasPart"]
    assert [{i["schemeName"]: i["notation"] for i in p["identifier"]}["Component credential"] for p in parts] == [_ni(a), _ni(b)]

    # revoked since the answer: the evaluation sees it now
    assert sd.key.post("/credentials/status", json={"credentialId": b_id, "status": "revoked"}).status_code == 200
    assert _problems(sd.web.post("/stacks/evaluate", json=by_request).json()) == [(1, "status")]


def test_a_clr_over_mixed_components_embeds_the_achievement_credentials_only(sd):
    """An OB3 component and an SD-JWT VC one: the CLR embeds the OB3 AchievementCredential, records both (achievement,
    association, relatedResource with the digest) and is valid against 1EdTech's CLR 2.0 schema."""
    a_w3c = sd.component(sd.web, sd.module_a)
    b, _ = sd.sd_component(sd.key, sd.module_b)
    pb = sd.present(b, nonce="stack-challenge", aud="provider.example")
    body = {"format": "clr", "specificationId": sd.composite, "issuance": sd.issuance(), "presentation": sd.presentation([a_w3c, _envelope(pb)])}
    clr = sd.web.post("/microcredentials", json=body)
    assert clr.status_code == 201, clr.text
    subject = clr.json()["credentialSubject"]
    assert [c["id"] for c in subject["verifiableCredential"]] == [a_w3c["id"]]
    assert [r["id"] for r in clr.json()["relatedResource"]] == [a_w3c["id"], _ni(b)] and len(subject["association"]) == 2
    schema = json.loads((ROOT / "contexts" / "clr_v2p0_clrcredential_schema.json").read_text())
    validator = jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker())
    assert [e.message[:300] for e in validator.iter_errors(clr.json())] == []
