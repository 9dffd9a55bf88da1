"""Stackable micro-credentials (issue 17) through the live service: composite rules on a specification, the
evaluation of a learner's components (``POST /stacks/evaluate``), the composite issued in its three renderings
over components from two providers (one did:web, one did:key), and each bad input refused by name."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.credentials import specification_of
from app.keys import Ed25519Signer, P256Signer
from app.proofs import sd_jwt
from app.store import specifications
from app.vcdm import VC2
from app.verification.dcql import MICROCREDENTIAL_TYPES
from app.xsd import format_datetime_stamp


def _holder():
    holder = Ed25519Signer.generate()
    mb = holder.public_multibase()
    holder.verification_method = f"did:key:{mb}#{mb}"
    return holder, f"did:key:{mb}"


class Stack:
    """Two providers of the live service, a learner with a holder key, two component specifications and a composite."""

    def __init__(self, live, example_input):
        self.live = live
        self.example = example_input
        issuance = live.app.state.issuance
        self.web_record, web_key = issuance.providers.create(slug="uniweb", name="University of Web", country="IE", homepage="https://web.example.edu")
        self.key_record, key_key = issuance.providers.create(
            slug="unikey", name="Key Institute", country="NL", homepage="https://key.example.edu", did_method="key"
        )
        self.web = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {web_key}"}, timeout=60)
        self.key = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key_key}"}, timeout=60)
        self.holder, self.did = _holder()
        self.module_a = self.specification(self.web, "Module A: data literacy", 2)
        self.module_b = self.specification(self.key, "Module B: data ethics", 3)
        self.module_x = self.specification(self.key, "Module X: not part of it", 2)
        self.composite = self.specification(
            self.web,
            "Certificate in data stewardship",
            5,
            composite={
                "components": [{"specification": self.module_a, "required": True}, {"specification": f"{live.url}/catalogue/{self.module_b}"}],
                "minEcts": 5,
                "minEqf": 6,
                "trustRequired": True,
            },
        )

    def close(self):
        self.web.close()
        self.key.close()

    def specification(self, client, title: str, ects: float, composite: dict | None = None) -> str:
        spec = specification_of(self.example)
        spec["title"] = {"en": title}
        spec["workload"] = {"ects": ects, "creditSystem": "ECTS"}
        if composite is not None:
            spec["composite"] = composite
        r = client.post("/specifications", json={"specification": spec, "published": True})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def issuance(self, learner_id: str | None = None) -> dict:
        learner = dict(self.example["learner"], id=learner_id or self.did)
        return {"learner": learner, "awardedAt": self.example["awardedAt"], "assessment": {"grade": {"value": "Pass"}}}

    def component(self, client, spec_id: str, fmt: str = "ob3", proof: str = "eddsa-rdfc-2022", learner_id: str | None = None):
        r = client.post("/microcredentials", json={"format": fmt, "proof": proof, "specificationId": spec_id, "issuance": self.issuance(learner_id)})
        assert r.status_code == 201, r.text
        if proof == "vc+jwt":
            return {"@context": [VC2], "id": f"data:{r.headers['content-type'].split(';')[0]},{r.text}", "type": "EnvelopedVerifiableCredential"}
        return r.json()

    def presentation(self, credentials: list, holder=None, did=None, suite: str = "eddsa-rdfc-2022") -> dict:
        vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": did or self.did, "verifiableCredential": credentials}
        return self.live.app.state.runtime.engine.add_proof(
            vp, holder or self.holder, suite=suite, proof_purpose="authentication", challenge="stack-challenge", domain="provider.example"
        )

    def evaluate(self, credentials: list, spec_id: str | None = None, **vp) -> httpx.Response:
        return self.web.post("/stacks/evaluate", json={"specificationId": spec_id or self.composite, "presentation": self.presentation(credentials, **vp)})


@pytest.fixture
def stack(live, example_input):
    s = Stack(live, example_input)
    yield s
    s.close()


def _problems(report: dict) -> list[tuple[int | None, str]]:
    """(component, rule) of each component refused (the rules the set then leaves unmet are in ``unmet``)."""
    return [(p["component"], p["rule"]) for p in report["problems"] if "component" in p]


def test_composite_rules_are_validated_and_shown_in_the_catalogue(live, stack):
    entry = stack.web.get(f"/specifications/{stack.composite}").json()
    assert entry["specification"]["composite"]["components"][0] == {"specification": stack.module_a, "required": True}
    for composite, pointer in [
        ({"components": [{"specification": "no-such-spec"}]}, "/specification/composite/components/0/specification"),
        ({"components": [{"specification": "ftp://x.example/spec"}]}, "/specification/composite/components/0/specification"),
        ({"components": [{"specification": stack.module_a}], "minComponents": 2}, "/composite/minComponents"),
        ({"components": [{"specification": stack.module_a}, {"specification": stack.module_a}]}, "/composite/components"),
        ({"components": [{"specification": stack.module_a, "minEqf": 9}]}, "/composite/components/0/minEqf"),
        ({"components": []}, "/composite/components"),
    ]:
        spec = specification_of(stack.example)
        spec["composite"] = composite
        r = stack.web.post("/specifications", json={"specification": spec})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert pointer in {e["pointer"] for e in r.json()["errors"]}, (composite, r.json()["errors"])
    page = httpx.get(f"{live.url}/catalogue/{stack.composite}/page").text
    assert "Module A: data literacy" in page and "Module B: data ethics" in page and 'data-testid="spec-components"' in page
    component_page = httpx.get(f"{live.url}/catalogue/{stack.module_b}/page").text
    assert 'data-testid="spec-stacks-into"' in component_page and "Certificate in data stewardship" in component_page


def test_evaluation_of_components_from_two_providers(stack):
    a = stack.component(stack.web, stack.module_a)
    b = stack.component(stack.key, stack.module_b, "edc", "vc+jwt")
    count = len(stack.web.get("/credentials").json()["items"])
    r = stack.evaluate([a, b])
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["eligible"] and report["verdict"] == "eligible", report["problems"]
    assert report["learner"] == {"id": stack.did, "sameLearner": "holder", "reason": report["learner"]["reason"]}
    assert report["sums"] == {"ects": 5.0, "components": 2, "needed": 2, "minEcts": 5.0}
    first, second = report["components"]
    assert first["rule"] == 0 and first["issuer"] == stack.web_record.did and first["format"] == "ob3" and first["verified"]
    assert second["rule"] == 1 and second["issuer"] == stack.key_record.did and second["format"] == "edc" and second["ects"] == 3
    assert first["digestSRI"].startswith("sha384-")
    assert len(stack.web.get("/credentials").json()["items"]) == count  # nothing stored

    # Only one of two, the required one: not eligible, each unmet rule named.
    report = stack.evaluate([a]).json()
    assert not report["eligible"] and {u["rule"] for u in report["unmet"]} == {"minComponents", "minEcts"}
    report = stack.evaluate([b]).json()
    assert {u["rule"] for u in report["unmet"]} == {"components/0/required", "minComponents", "minEcts"}

    # Uploaded as a plain list: the learner identifiers agree, with no holder binding; the report says so.
    r = stack.web.post("/stacks/evaluate", json={"specificationId": stack.composite, "credentials": [a, b]})
    assert r.status_code == 200 and r.json()["eligible"] and r.json()["learner"]["sameLearner"] == "identifiers"


def test_listed_components_that_are_not_credentials_are_reported_not_a_500(stack):
    # A number, true or null in the list was a 500 (the verifier's parse called .strip() on it).
    for junk in (5, True, None):
        r = stack.web.post("/stacks/evaluate", json={"specificationId": stack.composite, "credentials": [junk]})
        assert r.status_code < 500, r.text
        if r.status_code == 200:
            assert not r.json()["eligible"]


def test_bad_components_are_refused_by_name(live, stack):
    a = stack.component(stack.web, stack.module_a)
    b = stack.component(stack.key, stack.module_b)
    other = stack.component(stack.key, stack.module_b, learner_id="did:example:someone-else")
    x = stack.component(stack.key, stack.module_x)

    assert _problems(stack.evaluate([a, other]).json()) == [(1, "same-learner")]
    # the same credential twice: an RDFC proof cannot sign such a presentation (its two copies are indistinguishable
    # blank-node graphs, RDFC-1.0 §4.8 stops), so the holder signs it with eddsa-jcs-2022
    assert (1, "duplicate") in _problems(stack.evaluate([a, a, b], suite="eddsa-jcs-2022").json())
    # two credentials of one achievement (the same achievement node, its blank nodes twice): JCS too
    assert (2, "duplicate") in _problems(stack.evaluate([a, b, stack.component(stack.key, stack.module_b)], suite="eddsa-jcs-2022").json())
    assert _problems(stack.evaluate([a, b, x]).json()) == [(2, "no-matching-rule")]

    tampered = copy.deepcopy(b)
    tampered["credentialSubject"]["creditsEarned"] = 30.0
    report = stack.evaluate([a, tampered]).json()
    assert (1, "verification") in _problems(report) and "proof" in report["problems"][0]["detail"]

    # expired: the same component re-signed by its own issuer with a validUntil in the past
    signer = live.app.state.issuance.providers.signer_for(stack.key_record)
    expired = {k: v for k, v in b.items() if k != "proof"}
    expired["id"] = "urn:uuid:2b0c5b6e-7c0e-4a59-9a51-2d7c0f1e6e01"
    expired["validUntil"] = format_datetime_stamp(datetime.now(UTC) - timedelta(days=1))
    expired = live.app.state.runtime.engine.add_proof(expired, signer)
    report = stack.evaluate([a, expired]).json()
    assert (1, "validity") in _problems(report) and (1, "no-matching-rule") in _problems(report)

    # revoked after issue
    assert stack.key.post("/credentials/status", json={"credentialId": b["id"], "status": "revoked"}).status_code == 200
    report = stack.evaluate([a, b]).json()
    assert _problems(report)[0] == (1, "status") and not report["eligible"]

    # a composite presented as its own component: a cycle
    b2 = stack.component(stack.key, stack.module_b)
    body = {"format": "ob3", "specificationId": stack.composite, "issuance": stack.issuance(), "presentation": stack.presentation([a, b2])}
    composite = stack.web.post("/microcredentials", json=body)
    assert composite.status_code == 201, composite.text
    assert (2, "cycle") in _problems(stack.evaluate([a, b2, composite.json()]).json())


def test_untrusted_provider_when_trust_required(live, stack):
    """A component signed by an issuer outside the trust registry (a fresh did:key), for a specification of another
    service named by URL: matched, then refused because the composite requires trusted providers."""
    elsewhere = "https://other.example.org/catalogue/module-c"
    composite = stack.specification(
        stack.web, "Certificate with a module elsewhere", 2, composite={"components": [{"specification": elsewhere}], "trustRequired": True}
    )
    lenient = stack.specification(
        stack.web, "Certificate, trust not required", 2, composite={"components": [{"specification": elsewhere}], "trustRequired": False}
    )
    c = stack.component(stack.web, stack.module_a)
    outsider, outsider_did = _holder()
    foreign = {k: v for k, v in c.items() if k not in ("proof", "credentialStatus")}
    foreign["id"] = "urn:uuid:9c4c2f5e-3f7a-4e51-8d7e-6f2a1b0c9d88"
    foreign["issuer"] = dict(foreign["issuer"], id=outsider_did)
    foreign["credentialSubject"] = dict(foreign["credentialSubject"], achievement=dict(foreign["credentialSubject"]["achievement"], id=elsewhere))
    outsider.verification_method = f"{outsider_did}#{outsider_did.removeprefix('did:key:')}"
    foreign = live.app.state.runtime.engine.add_proof(foreign, outsider)
    report = stack.evaluate([foreign], spec_id=composite).json()
    assert _problems(report) == [(0, "trustRequired")], report["problems"]
    report = stack.evaluate([foreign], spec_id=lenient).json()
    assert report["eligible"], report["problems"]


@pytest.mark.parametrize("fmt", ["ob3", "edc", "clr"])
def test_composite_issued_in_each_rendering(live, stack, fmt):
    a = stack.component(stack.web, stack.module_a)
    b = stack.component(stack.key, stack.module_b, "edc", "vc+jwt")
    vp = stack.presentation([a, b])
    expected = {
        c["id"]: c["digestSRI"] for c in stack.web.post("/stacks/evaluate", json={"specificationId": stack.composite, "presentation": vp}).json()["components"]
    }
    body = {"format": fmt, "specificationId": stack.composite, "issuance": stack.issuance(), "presentation": vp}
    dry = stack.web.post("/microcredentials", params={"dryRun": "true"}, json=body)
    assert dry.status_code == 200, dry.text  # a dry run evaluates the components too, and signs and stores nothing
    if fmt != "edc":
        assert {x["id"] for x in dry.json()["credential"]["relatedResource"]} == set(expected)
    r = stack.web.post("/microcredentials", json=body)
    assert r.status_code == 201, r.text
    credential = r.json()
    report = live.app.state.runtime.verifier.verify(r.content.decode())
    assert report.verified, report.as_dict()
    if fmt == "ob3":
        assert {x["id"]: x["digestSRI"] for x in credential["relatedResource"]} == expected
        assert credential["credentialSubject"]["creditsEarned"] == 5.0
    elif fmt == "edc":
        parts = credential["credentialSubject"]["hasClaim"]["hasPart"]
        assert [p["title"]["en"] for p in parts] == ["Module A: data literacy", "Module B: data ethics"]
        assert credential["credentialSubject"]["hasClaim"]["specifiedBy"]["creditPoint"]["point"] == "5"
    else:
        assert credential["type"] == ["VerifiableCredential", "ClrCredential"]
        subject = credential["credentialSubject"]
        assert [c["id"] for c in subject["verifiableCredential"]] == [a["id"]]  # the OB3 component, as presented
        assert len(subject["association"]) == 2 and {x["id"]: x["digestSRI"] for x in credential["relatedResource"]} == expected
    listed = {c["id"]: c["format"] for c in stack.web.get("/credentials").json()["items"]}
    assert listed[credential["id"]] == fmt


def test_composite_refused_when_not_eligible(stack):
    a = stack.component(stack.web, stack.module_a)
    count = len(stack.web.get("/credentials").json()["items"])
    body = {"format": "ob3", "specificationId": stack.composite, "issuance": stack.issuance(), "presentation": stack.presentation([a])}
    r = stack.web.post("/microcredentials", json=body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "NOT_ELIGIBLE" and {e["rule"] for e in problem["errors"]} == {"minComponents", "minEcts"}
    no_components = stack.web.post("/microcredentials", json={"specificationId": stack.composite, "issuance": stack.issuance()})
    assert no_components.status_code == 400 and no_components.json()["errors"][0]["pointer"] == "/presentation"
    other_learner = dict(
        body, issuance=stack.issuance("did:example:not-the-holder"), presentation=stack.presentation([a, stack.component(stack.key, stack.module_b)])
    )
    r = stack.web.post("/microcredentials", json=other_learner)
    assert r.status_code == 422
    assert {(e["pointer"], e["rule"]) for e in r.json()["errors"] if e["pointer"] != "/specificationId"} == {
        ("/presentation/verifiableCredential/0", "same-learner"),
        ("/presentation/verifiableCredential/1", "same-learner"),
    }
    clr_alone = stack.web.post("/microcredentials", json={"format": "clr", "specificationId": stack.module_a, "issuance": stack.issuance()})
    assert clr_alone.status_code == 400 and clr_alone.json()["errors"][0]["pointer"] == "/format"
    assert len(stack.web.get("/credentials").json()["items"]) == count  # a refused request stores nothing


def _composite_check(report: dict) -> dict:
    return next(c for c in report["checks"] if c["id"] == "composite")


def _verify_vp(live, vp) -> dict:
    r = httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "stack-challenge"}}, timeout=60)
    assert r.status_code in (200, 422), r.text
    return r.json()


def test_verifier_shows_the_tree_and_checks_presented_components(live, stack):
    a = stack.component(stack.web, stack.module_a)
    b = stack.component(stack.key, stack.module_b, "edc", "vc+jwt")
    body = {"format": "ob3", "specificationId": stack.composite, "issuance": stack.issuance(), "presentation": stack.presentation([a, b])}
    composite = stack.web.post("/microcredentials", json=body).json()

    # Alone: recognised, its tree listed, none of its components presented.
    alone = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": composite}).json()
    check = _composite_check(alone)
    assert alone["verified"] and check["outcome"] == "passed" and "2 components (5 ECTS)" in check["reason"] and "not presented" in check["reason"]
    assert [t["state"] for t in check["details"]["components"]] == ["not presented", "not presented"]
    assert check["details"]["components"][0]["id"] == a["id"] and check["details"]["components"][0]["title"] == "Module A: data literacy"

    # Presented with both components: each checked (digest, signature, status), issuers and workloads shown.
    report = _verify_vp(live, stack.presentation([composite, a, b]))
    assert report["verified"], report
    tree = _composite_check(report["credentials"][0])["details"]["components"]
    assert [(t["state"], t["issuer"], t["presented"]) for t in tree] == [("verified", stack.web_record.did, True), ("verified", stack.key_record.did, True)]
    assert tree[0]["description"].endswith(tree[0]["digestSRI"]) and "2 ECTS" in tree[0]["description"]

    # One presented: the other is named as not presented.
    check = _composite_check(_verify_vp(live, stack.presentation([composite, a]))["credentials"][0])
    assert check["outcome"] == "passed" and "not presented: Module B: data ethics" in check["reason"]

    # A presented component whose bytes differ from those the composite was awarded over.
    altered = copy.deepcopy(a)
    altered["name"] = "Module A, re-titled"
    check = _composite_check(_verify_vp(live, stack.presentation([composite, altered], suite="eddsa-jcs-2022"))["credentials"][0])
    assert check["outcome"] == "failed" and check["code"] == "COMPONENT_MISMATCH" and check["details"]["components"][0]["state"] == "digest differs"

    # Revoked after the composite was issued: reported, and the composite's verdict says what it means.
    assert stack.web.post("/credentials/status", json={"credentialId": a["id"], "status": "revoked"}).status_code == 200
    report = _verify_vp(live, stack.presentation([composite, a, b]))
    inner = report["credentials"][0]
    check = _composite_check(inner)
    assert inner["verified"] and inner["verdict"] == "valid with warnings" and check["outcome"] == "indeterminate"
    assert check["details"]["components"][0]["state"] == "revoked" and "no longer stands on its own" in check["reason"]
    assert not report["credentials"][1]["verified"]  # the component itself is not valid any more


def test_clr_embeds_its_components_and_the_pages_show_the_tree(live, stack):
    a = stack.component(stack.web, stack.module_a)
    b = stack.component(stack.key, stack.module_b, "edc", "vc+jwt")
    body = {"format": "clr", "specificationId": stack.composite, "issuance": stack.issuance(), "presentation": stack.presentation([a, b])}
    clr = stack.web.post("/microcredentials", json=body)
    assert clr.status_code == 201, clr.text
    report = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": clr.json()}).json()
    check = _composite_check(report)
    tree = check["details"]["components"]
    assert report["verified"] and [(t["state"], t["presented"]) for t in tree] == [("verified", True), ("not presented", False)]
    assert "2 components (5 ECTS)" in check["reason"] and [t["title"] for t in tree] == ["Module A: data literacy", "Module B: data ethics"]

    with httpx.Client(base_url=live.url, timeout=60) as browser:
        form = browser.get("/verify").text
        token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        page = browser.post("/verify", files={"credential": (None, clr.text), "csrf": (None, token)})
    assert page.status_code == 200 and 'data-testid="composite-tree"' in page.text
    assert "Module A: data literacy" in page.text and "Module B: data ethics" in page.text and "not presented" in page.text


def test_a_cycle_through_nested_composites_is_refused_by_name(live, stack):
    """Composite B stacks the composite A (and module X), C stacks B: a B or C credential presented for A holds A
    itself (B's rule names A, B's credential records A's), at depth one and two, and is refused as a cycle."""
    b_spec = stack.specification(
        stack.web, "Diploma over the certificate", 7, composite={"components": [{"specification": stack.composite}, {"specification": stack.module_x}]}
    )
    c_spec = stack.specification(stack.web, "Degree over the diploma", 7, composite={"components": [{"specification": b_spec}]})
    a = stack.component(stack.web, stack.module_a)
    b = stack.component(stack.key, stack.module_b)
    x = stack.component(stack.key, stack.module_x)

    def composite(spec_id, parts):
        body = {"format": "ob3", "specificationId": spec_id, "issuance": stack.issuance(), "presentation": stack.presentation(parts, suite="eddsa-jcs-2022")}
        r = stack.web.post("/microcredentials", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    a_credential = composite(stack.composite, [a, b])
    b_credential = composite(b_spec, [a_credential, x])
    c_credential = composite(c_spec, [b_credential])
    for nested, via in [(b_credential, f"specification {b_spec} rule components/0"), (c_credential, f"specification {b_spec} rule components/0")]:
        report = stack.evaluate([a, nested], suite="eddsa-jcs-2022").json()
        assert _problems(report) == [(1, "cycle")], report["problems"]
        detail = report["problems"][0]["detail"]
        assert f"contains the composite {stack.composite} itself" in detail and via in detail and "component 1 (" in detail, detail


def test_a_composite_over_a_catalogue_cycle_is_refused(live, stack):
    """Through the API a new composite closes no cycle (its id is assigned as it is created); a catalogue whose rules
    already loop (two composites rewritten in the store to name each other) cannot be built on: refused, naming the
    rule and the cycle."""
    first = stack.specification(stack.web, "Loop one", 2, composite={"components": [{"specification": stack.module_a}]})
    second = stack.specification(stack.web, "Loop two", 2, composite={"components": [{"specification": first}]})
    with live.app.state.issuance.db.transaction() as session:
        record = specifications.get_specification(session, first)
        data = dict(record.data, composite={"components": [{"specification": second}]})
        specifications.update_specification(
            session, stack.web_record.id, first, data, title=record.title, country=record.country, eqf=record.eqf, ects=record.ects
        )
    spec = specification_of(stack.example)
    spec["composite"] = {"components": [{"specification": stack.module_b}, {"specification": second}]}
    r = stack.web.post("/specifications", json={"specification": spec})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    (error,) = r.json()["errors"]
    assert error["pointer"] == "/specification/composite/components/1/specification" and error["rule"] == "cycle"
    assert f"{second} components/0 → {first} components/0 → {second}" in error["detail"], error


def _answered_request(live, stack, presentations) -> str:
    """An OpenID4VP request for the learner's components (DCQL: any number of W3C micro-credentials), answered by
    ``presentations(claims)`` through its direct_post response; its id."""
    query = {"credentials": [{"id": "components", "format": "ldp_vc", "multiple": True, "meta": {"type_values": MICROCREDENTIAL_TYPES}}]}
    created = httpx.post(
        f"{live.url}/presentation-requests", json={"verifier_name": "University of Web", "purpose": "Your modules", "dcql_query": query}, timeout=30
    )
    assert created.status_code == 201, created.text
    token = httpx.get(created.json()["request_uri"], timeout=30).text.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    pending = stack.web.post("/stacks/evaluate", json={"specificationId": stack.composite, "presentationRequestId": created.json()["id"]})
    assert pending.status_code == 422 and pending.json()["code"] == "PRESENTATION_NOT_RECEIVED", pending.text
    form = {"state": claims["state"], "vp_token": json.dumps({"components": presentations(claims)})}
    answered = httpx.post(claims["response_uri"], data=form, timeout=60)
    assert answered.status_code == 200, answered.text
    status = httpx.get(created.json()["status_url"], timeout=30).json()
    assert status["status"] == "received" and all("vp" not in p for p in status["result"]["presentations"])
    return created.json()["id"]


def test_components_from_an_answered_openid4vp_request(live, stack):
    a = stack.component(stack.web, stack.module_a)
    b = stack.component(stack.key, stack.module_b)
    engine = live.app.state.runtime.engine

    def vp(credential, claims, holder=None, did=None):
        doc = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": did or stack.did, "verifiableCredential": [credential]}
        return engine.add_proof(doc, holder or stack.holder, proof_purpose="authentication", challenge=claims["nonce"], domain=claims["client_id"])

    request_id = _answered_request(live, stack, lambda claims: [vp(a, claims), vp(b, claims)])
    r = stack.web.post("/stacks/evaluate", json={"specificationId": stack.composite, "presentationRequestId": request_id})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["eligible"], report["problems"]
    assert report["learner"]["sameLearner"] == "holder" and [c["id"] for c in report["components"]] == [a["id"], b["id"]]
    body = {"format": "ob3", "specificationId": stack.composite, "issuance": stack.issuance(), "presentationRequestId": request_id}
    composite = stack.web.post("/microcredentials", json=body)
    assert composite.status_code == 201, composite.text
    assert {x["id"] for x in composite.json()["relatedResource"]} == {a["id"], b["id"]}

    # One presentation signed by another holder: no holder binding throughout, the learner identifiers must agree.
    other, other_did = _holder()
    mixed = _answered_request(live, stack, lambda claims: [vp(a, claims), vp(b, claims, other, other_did)])
    report = stack.web.post("/stacks/evaluate", json={"specificationId": stack.composite, "presentationRequestId": mixed}).json()
    assert report["eligible"] and report["learner"]["sameLearner"] == "identifiers", report
    # The composite of another learner than the one whose components were presented: refused by name.
    refused = stack.web.post("/microcredentials", json=dict(body, issuance=stack.issuance("did:example:not-the-holder")))
    assert refused.status_code == 422 and {e["rule"] for e in refused.json()["errors"] if e["pointer"] != "/specificationId"} == {"same-learner"}
    unknown = stack.web.post("/stacks/evaluate", json={"specificationId": stack.composite, "presentationRequestId": "no-such-request"})
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")


def test_an_sd_jwt_vc_answer_of_no_specification_matches_no_rule(live, stack):
    """An OpenID4VP answer with an SD-JWT VC issued without a specification (every claim disclosed: none is withheld):
    it is verified and read as a component (tests/api/test_stacking_sd_jwt.py has the stacking of SD-JWT VCs), names no
    specification, so no rule: refused by name, and nothing is issued."""
    holder = P256Signer.generate()
    token = stack.web.post("/microcredentials", json={"format": "sd-jwt", "holder": {"jwk": holder.public_jwk()}, "microcredential": stack.example})
    assert token.status_code == 201, token.text
    created = httpx.post(f"{live.url}/presentation-requests", json={"verifier_name": "University of Web", "purpose": "Your modules"}, timeout=30).json()
    part = httpx.get(created["request_uri"], timeout=30).text.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    presentation = sd_jwt.present(token.text, lambda *_: True, holder=holder, aud=claims["client_id"], nonce=claims["nonce"])
    form = {"state": claims["state"], "vp_token": json.dumps({"microcredential_sd_jwt": [presentation]})}
    assert httpx.post(claims["response_uri"], data=form, timeout=60).status_code == 200
    count = len(stack.web.get("/credentials").json()["items"])
    report = stack.web.post("/stacks/evaluate", json={"specificationId": stack.composite, "presentationRequestId": created["id"]})
    assert report.status_code == 200 and _problems(report.json()) == [(0, "no-matching-rule")], report.text
    assert report.json()["components"][0]["format"] == "sd-jwt" and "no known specification" in report.json()["problems"][0]["detail"]
    body = {"specificationId": stack.composite, "issuance": stack.issuance(), "presentationRequestId": created["id"]}
    r = stack.web.post("/microcredentials", json=body)
    assert r.status_code == 422 and r.json()["code"] == "NOT_ELIGIBLE", r.text
    assert len(stack.web.get("/credentials").json()["items"]) == count
