"""SD-JWT VC components (issue 17) presented by an independent holder: the OpenWallet Foundation's @sd-jwt/*
0.19.0 (tests/interop/sd_jwt_harness.mjs) makes each presentation (the claims the rules need, a KB-JWT signed with
the learner's P-256 key); microcred evaluates them, issues the composite over them and records the digest of the
bytes the library presented."""

from __future__ import annotations

import pytest

from app.keys import P256Signer
from app.keys.b64url import encode as b64u
from tests.api.test_stacking_sd_jwt import AUD, NONCE, SdStack, _digest, _ni
from tests.interop.test_sd_jwt_interop import Owf, owf  # noqa: F401 (the fixture)

#: what the composite's rules read (minEcts, minEqf, the rule match, the learner), and the title it shows
NEEDED = ["specification", "workload", "level", "learner_id", "title", "date_of_issuance"]


@pytest.fixture
def sd(live, example_input):
    s = SdStack(live, example_input)
    yield s
    s.close()


def test_presentations_made_by_the_owf_library_stack(owf: Owf, sd):  # noqa: F811
    private = {**sd.key_signer.public_jwk(), "d": b64u(sd.key_signer.secret)}
    tokens = [sd.sd_component(sd.web, sd.module_a)[0], sd.sd_component(sd.key, sd.module_b)[0]]
    presented = [owf.run("present", credential=t, holderJwk=private, disclose=NEEDED, aud=AUD, nonce=NONCE)["presentation"] for t in tokens]

    body = {"specificationId": sd.composite, "credentials": presented, "challenge": NONCE, "domain": AUD}
    report = sd.web.post("/stacks/evaluate", json=body).json()
    assert report["eligible"] and report["learner"]["sameLearner"] == "holder", report["problems"]
    assert all("grade" in c["withheldClaims"] and "specification" not in c["withheldClaims"] for c in report["components"])

    composite = sd.web.post("/microcredentials", json={"format": "ob3", "issuance": sd.issuance(), **body})
    assert composite.status_code == 201, composite.text
    assert composite.json()["relatedResource"] == [{"id": _ni(t), "digestSRI": _digest(p)} for t, p in zip(tokens, presented, strict=True)]

    # the library's presentation without the level: the rule minEqf names the withheld claim
    fewer = owf.run("present", credential=tokens[1], holderJwk=private, disclose=[n for n in NEEDED if n != "level"], aud=AUD, nonce=NONCE)
    report = sd.web.post("/stacks/evaluate", json=dict(body, credentials=[presented[0], fewer["presentation"]])).json()
    assert [(p["component"], p["rule"], p.get("claim")) for p in report["problems"] if "component" in p] == [(1, "disclosure", "level")]
    # signed by another key than cnf: refused there as here
    other = P256Signer.generate()
    stolen = owf.run("present", credential=tokens[1], holderJwk={**other.public_jwk(), "d": b64u(other.secret)}, disclose=NEEDED, aud=AUD, nonce=NONCE)
    report = sd.web.post("/stacks/evaluate", json=dict(body, credentials=[presented[0], stolen["presentation"]])).json()
    assert (1, "verification") in [(p.get("component"), p["rule"]) for p in report["problems"]], report["problems"]
