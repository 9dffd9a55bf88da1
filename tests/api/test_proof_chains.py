"""Issue 11 item 6, the vc-di-eddsa suite's previousProof fixture (tests/fixtures/SOURCES.md), over the live verifier.

* Its ``@context`` array holds ``{"@context": {...}}``. JSON-LD 1.1 API §4.1.2 unwraps ``@context`` only from a
  remote context document (step 5.2.5); inside a context definition it reaches Create Term Definition, which raises
  "keyword redefinition" for a keyword (§4.2.2 step 5). jsonld.js 9 unwraps it anyway (lib/context.js "dereference
  @context key if present"); microcred follows the spec and says why.
* Its first proof is by another key than the issuer's, the second (the issuer's) chains to it with previousProof.
  Data Integrity §2.1.1-2.1.2 allow proofs of several parties: both must verify, one must be the issuer's.
"""

from __future__ import annotations

import copy
import json

import httpx

from app.keys import Ed25519Signer
from tests.api.test_verifier import _checks, _plain
from tests.conftest import VECTORS

FIXTURE = VECTORS / "di-assertion" / "2.0-previousProofStringOk-SimpleSigned2.json"


def _verify(live, vc) -> httpx.Response:
    return httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": vc}, timeout=30)


def test_a_context_object_wrapped_in_context_is_a_keyword_redefinition(live):
    r = _verify(live, json.loads(FIXTURE.read_text()))
    assert r.status_code == 422, r.text
    wf = _checks(r.json())["well_formed"]
    assert wf["outcome"] == "failed" and "keyword redefinition" in wf["reason"] and "§4.2.2" in wf["reason"]


def test_a_proof_chain_whose_first_proof_is_another_partys_verifies(live):
    doc = json.loads(FIXTURE.read_text())
    doc["@context"] = [doc["@context"][0], doc["@context"][1]["@context"]]  # the same RDF, as jsonld.js reads it
    r = _verify(live, doc)
    assert r.status_code == 200, r.text
    checks = _checks(r.json())
    assert checks["proof"]["outcome"] == "passed" and len(checks["proof"]["details"]["proofs"]) == 2
    binding = checks["issuer_binding"]
    assert binding["outcome"] == "passed" and binding["details"]["otherSigners"] == ["did:key:z6MktgKTsu1QhX6QPbyqG6geXdw6FQCZBPq7uQpieWbiQiG7"]
    # The chain is signed: the first proof altered breaks the second's previousProof and its own signature.
    bad = copy.deepcopy(doc)
    bad["proof"][0]["created"] = "2023-02-26T22:06:39Z"
    assert _verify(live, bad).status_code == 422
    # Without the issuer's proof, the other party's alone does not bind the issuer.
    alone = copy.deepcopy(doc)
    alone["proof"] = alone["proof"][0]
    r = _verify(live, alone)
    assert r.status_code == 422 and _checks(r.json())["issuer_binding"]["outcome"] == "failed"


def test_two_proofs_neither_by_the_issuer_do_not_bind_it(live, provider):
    strangers = []
    for _ in range(2):
        s = Ed25519Signer.generate()
        s.verification_method = f"did:key:{s.public_multibase()}#{s.public_multibase()}"
        strangers.append(s)
    doc = live.app.state.runtime.engine.add_proof(_plain(provider[0].did), strangers[0])
    doc = live.app.state.runtime.engine.add_proof(doc, strangers[1])
    r = _verify(live, doc)
    assert r.status_code == 422 and _checks(r.json())["issuer_binding"]["code"] == "INVALID_VERIFICATION_METHOD"
