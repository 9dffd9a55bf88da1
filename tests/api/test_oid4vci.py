"""OpenID4VCI 1.0 over real HTTP against the live service, with a small wallet written here from the spec (the
independent wallet, @openid4vc/openid4vci, is in tests/interop/test_oid4vci_interop.py): metadata, offers by value
and by reference, the pre-authorized code with its tx_code, nonces, proofs, batch issuance, DPoP (RFC 9449), and
every refusal the issue names, each with its OAuth / OID4VCI error object and HTTP status."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.dids.did_jwk import did_jwk_from_jwk
from app.keys import Ed25519Signer, P256Signer

GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIGURATIONS = ("ob3_ldp_vc", "edc_ldp_vc", "ob3_jwt_vc_json", "eu_microcredential_sd_jwt")


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jws(header: dict, payload: dict, signer) -> str:
    signing_input = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(payload).encode())
    return signing_input + "." + b64u(signer.sign(signing_input.encode()))


def alg_of(signer) -> str:
    return "ES256" if isinstance(signer, P256Signer) else "EdDSA"


def key_proof(signer, *, aud: str, nonce: str | None, iat: int | None = None, typ: str = "openid4vci-proof+jwt", header: dict | None = None) -> str:
    claims = {"aud": aud, "iat": int(time.time()) if iat is None else iat}
    if nonce is not None:
        claims["nonce"] = nonce
    return jws(header or {"typ": typ, "alg": alg_of(signer), "jwk": signer.public_jwk()}, claims, signer)


def dpop_proof(signer, method: str, url: str, *, access_token: str | None = None, jti: str | None = None, iat: int | None = None) -> str:
    claims = {"htm": method, "htu": url, "iat": int(time.time()) if iat is None else iat, "jti": jti or str(uuid.uuid4())}
    if access_token:
        claims["ath"] = b64u(hashlib.sha256(access_token.encode()).digest())
    return jws({"typ": "dpop+jwt", "alg": alg_of(signer), "jwk": signer.public_jwk()}, claims, signer)


def thumbprint(jwk: dict) -> str:
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("crv", "kty", "x")
    return b64u(hashlib.sha256(json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True).encode()).digest())


def offer(client, example_input, **extra):
    r = client.post("/microcredentials/offers", json={"microcredential": example_input, **extra})
    assert r.status_code == 201, r.text
    return r.json()


class Wallet:
    """The wallet side of the pre-authorized code flow, from the spec (OID4VCI 1.0 §3.5)."""

    def __init__(self, live, created: dict, dpop_key=None):
        self.http = httpx.Client(timeout=30)
        self.created = created
        self.credential_offer = created["credential_offer"]
        self.issuer = self.credential_offer["credential_issuer"]
        path = urllib.parse.urlsplit(self.issuer).path
        self.metadata = self.http.get(f"{live.url}/.well-known/openid-credential-issuer{path}").json()
        self.as_metadata = self.http.get(f"{live.url}/.well-known/oauth-authorization-server{path}").json()
        self.dpop_key = dpop_key
        self.access_token = None

    @property
    def code(self) -> str:
        return self.credential_offer["grants"][GRANT]["pre-authorized_code"]

    def token(self, tx_code: str | None = "", **extra) -> httpx.Response:
        form = {"grant_type": GRANT, "pre-authorized_code": self.code, **extra}
        tx = self.created["tx_code"] if tx_code == "" else tx_code
        if tx is not None:
            form["tx_code"] = tx
        url = self.as_metadata["token_endpoint"]
        headers = {"DPoP": dpop_proof(self.dpop_key, "POST", url)} if self.dpop_key else {}
        r = self.http.post(url, data=form, headers=headers)
        if r.status_code == 200:
            self.access_token = r.json()["access_token"]
        return r

    def nonce(self) -> str:
        r = self.http.post(self.metadata["nonce_endpoint"])
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text
        return r.json()["c_nonce"]

    def credential(self, configuration: str, proofs: list[str], *, headers: dict | None = None, body: dict | None = None) -> httpx.Response:
        url = self.metadata["credential_endpoint"]
        if headers is None:
            if self.dpop_key:
                headers = {
                    "Authorization": f"DPoP {self.access_token}",
                    "DPoP": dpop_proof(self.dpop_key, "POST", url, access_token=self.access_token),
                }
            else:
                headers = {"Authorization": f"Bearer {self.access_token}"}
        return self.http.post(url, json=body or {"credential_configuration_id": configuration, "proofs": {"jwt": proofs}}, headers=headers)


def _oauth_error(r: httpx.Response, status: int, error: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == error, r.text


# -- metadata


def test_metadata_of_the_issuer_its_authorization_server_and_its_keys(live, client, provider):
    issuer = f"{live.url}/issuers/uniz"
    meta = httpx.get(f"{live.url}/.well-known/openid-credential-issuer/issuers/uniz").json()
    assert meta["credential_issuer"] == issuer
    assert meta["credential_endpoint"] == f"{issuer}/credential" and meta["nonce_endpoint"] == f"{issuer}/nonce"
    assert meta["batch_credential_issuance"]["batch_size"] >= 2
    assert meta["display"][0]["name"] == "University of Zed" and meta["display"][0]["logo"]["uri"] == f"{issuer}/logo.png"
    assert httpx.get(meta["display"][0]["logo"]["uri"]).headers["content-type"] == "image/png"
    configs = meta["credential_configurations_supported"]
    assert tuple(configs) == CONFIGURATIONS
    assert configs["ob3_ldp_vc"]["format"] == configs["edc_ldp_vc"]["format"] == "ldp_vc"
    assert configs["ob3_ldp_vc"]["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022"]
    assert configs["ob3_ldp_vc"]["cryptographic_binding_methods_supported"] == ["did:key", "did:jwk"]
    assert "OpenBadgeCredential" in configs["ob3_ldp_vc"]["credential_definition"]["type"]
    assert "EuropeanDigitalCredential" in configs["edc_ldp_vc"]["credential_definition"]["type"]
    assert configs["ob3_jwt_vc_json"]["format"] == "jwt_vc_json"
    assert set(configs["ob3_jwt_vc_json"]["credential_signing_alg_values_supported"]) == {"ES256", "EdDSA"}
    sd = configs["eu_microcredential_sd_jwt"]
    assert sd["format"] == "dc+sd-jwt" and sd["vct"] == f"{live.url}/vct/eu-microcredential/v1"
    assert sd["credential_signing_alg_values_supported"][0] == "ES256" and sd["cryptographic_binding_methods_supported"] == ["jwk"]
    for c in configs.values():
        assert c["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256", "EdDSA"]
        display = c["credential_metadata"]["display"]
        assert {d["locale"] for d in display} == {"en", "de"}
        claims = c["credential_metadata"]["claims"]
        assert claims and all(isinstance(x["path"], list) and {d["locale"] for d in x["display"]} == {"en", "de"} for x in claims)
    assert ["grade"] in [x["path"] for x in sd["credential_metadata"]["claims"]]

    oauth = httpx.get(f"{live.url}/.well-known/oauth-authorization-server/issuers/uniz").json()
    assert oauth["issuer"] == issuer and oauth["token_endpoint"] == f"{issuer}/token"
    assert oauth["pre-authorized_grant_anonymous_access_supported"] is True
    assert set(oauth["dpop_signing_alg_values_supported"]) == {"ES256", "EdDSA"}

    jwt_issuer = httpx.get(f"{live.url}/.well-known/jwt-vc-issuer/issuers/uniz").json()
    assert jwt_issuer["issuer"] == issuer
    document = client.get("/issuers/uniz/did.json").json()
    p256 = [m for m in document["verificationMethod"] if m.get("publicKeyJwk", {}).get("crv") == "P-256"]
    assert p256
    assert {m["id"] for m in p256} <= {k["kid"] for k in jwt_issuer["jwks"]["keys"]}
    assert all("d" not in k for k in jwt_issuer["jwks"]["keys"])
    assert httpx.get(f"{live.url}/.well-known/openid-credential-issuer/issuers/nobody").status_code == 404


# -- the flow, each configuration, with and without DPoP


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
@pytest.mark.parametrize("use_dpop", [False, True], ids=["bearer", "dpop"])
def test_redeem_each_configuration(live, client, example_input, configuration, use_dpop):
    created = offer(client, example_input, configurations=[configuration])
    assert created["credential_offer_uri"].startswith("openid-credential-offer://?credential_offer_uri=")
    by_reference = urllib.parse.parse_qs(urllib.parse.urlsplit(created["credential_offer_uri"]).query)["credential_offer_uri"][0]
    assert httpx.get(by_reference).json() == created["credential_offer"]
    assert created["credential_offer"]["grants"][GRANT]["tx_code"]["length"] == len(created["tx_code"]) == 6
    wallet = Wallet(live, created, dpop_key=P256Signer.generate() if use_dpop else None)
    r = wallet.token()
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.json()["token_type"] == ("DPoP" if use_dpop else "Bearer")
    holder = P256Signer.generate() if configuration != "ob3_ldp_vc" else Ed25519Signer.generate()
    r = wallet.credential(configuration, [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())])
    assert r.status_code == 200, r.text
    (entry,) = r.json()["credentials"]
    credential = entry["credential"]
    holder_did = did_jwk_from_jwk(holder.public_jwk())
    if configuration.endswith("ldp_vc"):
        assert credential["credentialSubject"]["id"] == holder_did
        assert credential["proof"]["cryptosuite"] if isinstance(credential["proof"], dict) else credential["proof"][0]["cryptosuite"]
    elif configuration == "ob3_jwt_vc_json":
        payload = b64json(credential.split(".")[1])
        assert payload["credentialSubject"]["id"] == holder_did
    else:
        payload = b64json(credential.split("~")[0].split(".")[1])
        assert payload["cnf"]["jwk"] == holder.public_jwk()
    # microcred's verifier accepts it
    verify_body = {"verifiableCredential": credential} if isinstance(credential, dict) else {"verifiableCredential": credential}
    report = client.post("/credentials/verify", json=verify_body)
    assert report.status_code == 200, report.text
    assert report.json()["verified"] is True, report.text
    # the provider sees the offer redeemed, with the credential it can revoke
    state = client.get(f"/microcredentials/offers/{created['id']}").json()
    assert state["state"] == "redeemed" and len(state["credential_ids"]) == 1
    stored = client.get(f"/credentials/{state['credential_ids'][0]}")
    assert stored.status_code == 200
    assert (json.loads(stored.content) == credential) if isinstance(credential, dict) else stored.text == credential
    assert client.post("/credentials/status", json={"credentialId": state["credential_ids"][0], "status": "revoked"}).status_code == 200
    # a redeemed offer cannot be redeemed again
    assert httpx.get(by_reference).status_code == 404
    _oauth_error(wallet.token(), 400, "invalid_grant")
    again = wallet.credential(configuration, [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())])
    _oauth_error(again, 401, "invalid_token")


def test_batch_issuance_one_credential_per_proof_each_bound_to_its_key(live, client, example_input):
    wallet = Wallet(live, offer(client, example_input))
    assert wallet.token().status_code == 200
    nonce = wallet.nonce()
    holders = [P256Signer.generate(), Ed25519Signer.generate(), P256Signer.generate()]
    r = wallet.credential("eu_microcredential_sd_jwt", [key_proof(h, aud=wallet.issuer, nonce=nonce) for h in holders])
    assert r.status_code == 200, r.text
    credentials = [c["credential"] for c in r.json()["credentials"]]
    assert [b64json(c.split("~")[0].split(".")[1])["cnf"]["jwk"] for c in credentials] == [h.public_jwk() for h in holders]
    state = client.get(f"/microcredentials/offers/{wallet.created['id']}").json()
    assert len(set(state["credential_ids"])) == 3


def test_batch_larger_than_advertised_is_refused_and_leaves_the_offer_redeemable(live, client, example_input):
    wallet = Wallet(live, offer(client, example_input))
    assert wallet.token().status_code == 200
    size = wallet.metadata["batch_credential_issuance"]["batch_size"]
    nonce = wallet.nonce()
    holder = P256Signer.generate()
    r = wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=wallet.issuer, nonce=nonce)] * (size + 1))
    _oauth_error(r, 400, "invalid_credential_request")
    r = wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=wallet.issuer, nonce=nonce)])
    assert r.status_code == 200, r.text


# -- tx_code, codes, tokens


def test_wrong_tx_code_is_counted_and_the_sixth_try_finds_the_offer_burnt(live, client, example_input):
    created = offer(client, example_input)
    wallet = Wallet(live, created)
    wrong = "000000" if created["tx_code"] != "000000" else "111111"
    for left in (4, 3, 2, 1):
        r = wallet.token(tx_code=wrong)
        _oauth_error(r, 400, "invalid_grant")
        assert f"{left} tries left" in r.json()["error_description"]
    r = wallet.token(tx_code=wrong)  # the fifth wrong one burns the offer
    _oauth_error(r, 400, "invalid_grant")
    r = wallet.token()  # the sixth try, with the right code: too late
    _oauth_error(r, 400, "invalid_grant")
    assert client.get(f"/microcredentials/offers/{created['id']}").json()["state"] == "expired"


def test_missing_tx_code_and_unsupported_grant_and_ignored_parameters(live, client, example_input):
    created = offer(client, example_input)
    wallet = Wallet(live, created)
    _oauth_error(wallet.token(tx_code=None), 400, "invalid_request")
    r = wallet.http.post(wallet.as_metadata["token_endpoint"], data={"grant_type": "authorization_code", "code": "x"})
    _oauth_error(r, 400, "unsupported_grant_type")
    r = wallet.http.post(wallet.as_metadata["token_endpoint"], data={"grant_type": GRANT, "pre-authorized_code": "nope", "tx_code": "1"})
    _oauth_error(r, 400, "invalid_grant")
    r = wallet.http.post(wallet.as_metadata["token_endpoint"], json={"grant_type": GRANT})
    _oauth_error(r, 400, "invalid_request")
    # resource and the draft-era user_pin are ignored, not refused
    r = wallet.token(resource="https://example.org/rs", user_pin="123")
    assert r.status_code == 200, r.text


def test_an_offer_without_tx_code(live, client, example_input):
    created = offer(client, example_input, txCode=False, configurations=["eu_microcredential_sd_jwt"])
    assert created["tx_code"] is None and "tx_code" not in created["credential_offer"]["grants"][GRANT]
    wallet = Wallet(live, created)
    assert wallet.token(tx_code=None).status_code == 200


def test_replayed_pre_authorized_code(live, client, example_input):
    wallet = Wallet(live, offer(client, example_input))
    assert wallet.token().status_code == 200
    _oauth_error(wallet.token(), 400, "invalid_grant")


def test_expired_offer(live, client, example_input):
    created = offer(client, example_input)
    db = live.app.state.db
    from sqlalchemy import update

    from app.store.models import Oid4vciOffer

    with db.transaction() as session:
        session.execute(update(Oid4vciOffer).where(Oid4vciOffer.id == created["id"]).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    wallet = Wallet(live, created)
    _oauth_error(wallet.token(), 400, "invalid_grant")
    assert client.get(f"/microcredentials/offers/{created['id']}").json()["state"] == "expired"
    by_reference = urllib.parse.parse_qs(urllib.parse.urlsplit(created["credential_offer_uri"]).query)["credential_offer_uri"][0]
    assert httpx.get(by_reference).status_code == 404


def test_an_access_token_that_expires_unused_does_not_strand_the_offer(live, client, example_input):
    """Issue 15: "a redemption that fails leaves the offer redeemable": the code is exchanged again once its token
    lapsed unused (the offer unexpired), the lapsed token stays refused, and a live token blocks a second exchange."""
    from sqlalchemy import update

    from app.store.models import Oid4vciToken

    created = offer(client, example_input, configurations=["eu_microcredential_sd_jwt"])
    wallet = Wallet(live, created)
    assert wallet.token().status_code == 200
    lapsed = wallet.access_token
    _oauth_error(wallet.token(), 400, "invalid_grant")  # its token is still valid: refused
    with live.app.state.db.transaction() as session:
        session.execute(update(Oid4vciToken).where(Oid4vciToken.offer_id == created["id"]).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    holder = P256Signer.generate()
    _oauth_error(wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())]), 401, "invalid_token")
    assert client.get(f"/microcredentials/offers/{created['id']}").json()["state"] == "offered"
    wrong = "000000" if created["tx_code"] != "000000" else "111111"
    r = wallet.token(tx_code=wrong)  # still counted after the first exchange
    _oauth_error(r, 400, "invalid_grant")
    assert "4 tries left" in r.json()["error_description"]
    assert wallet.token().status_code == 200  # exchanged again
    assert wallet.access_token != lapsed
    r = wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())])
    assert r.status_code == 200, r.text
    assert client.get(f"/microcredentials/offers/{created['id']}").json()["state"] == "redeemed"
    _oauth_error(wallet.token(), 400, "invalid_grant")  # a redeemed offer: never again


@pytest.mark.parametrize("holder_kind", ["P-256", "Ed25519"])
def test_jwt_vc_json_is_signed_with_the_alg_of_the_wallets_key(live, client, example_input, holder_kind):
    """OID4VCI 1.0 Appendix A.1 / §12.2.4: ``ob3_jwt_vc_json`` advertises ES256 and EdDSA; a wallet proving a P-256
    key gets ES256 (the provider's P-256 key, its JsonWebKey method in the DID document), an Ed25519 one EdDSA."""
    wallet = Wallet(live, offer(client, example_input, configurations=["ob3_jwt_vc_json"]))
    assert wallet.token().status_code == 200
    holder = P256Signer.generate() if holder_kind == "P-256" else Ed25519Signer.generate()
    r = wallet.credential("ob3_jwt_vc_json", [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())])
    assert r.status_code == 200, r.text
    credential = r.json()["credentials"][0]["credential"]
    header = b64json(credential.split(".")[0])
    expected = "ES256" if holder_kind == "P-256" else "EdDSA"
    assert header["alg"] == expected
    assert expected in wallet.metadata["credential_configurations_supported"]["ob3_jwt_vc_json"]["credential_signing_alg_values_supported"]
    path = urllib.parse.urlsplit(wallet.issuer).path
    keys = httpx.get(f"{live.url}/.well-known/jwt-vc-issuer{path}").json()["jwks"]["keys"]
    assert [k["kty"] for k in keys if k["kid"] == header["kid"]] == (["EC"] if expected == "ES256" else ["OKP"])
    report = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert report.status_code == 200 and report.json()["verified"] is True, report.text


# -- proofs and nonces


def test_proof_refusals_leave_the_offer_redeemable(live, client, example_input):
    wallet = Wallet(live, offer(client, example_input))
    assert wallet.token().status_code == 200
    holder = P256Signer.generate()
    cfg = "eu_microcredential_sd_jwt"
    # another audience
    _oauth_error(wallet.credential(cfg, [key_proof(holder, aud="https://other.example/issuers/x", nonce=wallet.nonce())]), 400, "invalid_proof")
    # wrong typ
    _oauth_error(wallet.credential(cfg, [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce(), typ="JWT")]), 400, "invalid_proof")
    # iat far in the past
    _oauth_error(wallet.credential(cfg, [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce(), iat=int(time.time()) - 3600)]), 400, "invalid_proof")
    # a private key in the header
    private = dict(holder.public_jwk(), d=b64u(b"\x01" * 32))
    bad = key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce(), header={"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": private})
    _oauth_error(wallet.credential(cfg, [bad]), 400, "invalid_proof")
    # alg none / HS256
    for alg in ("none", "HS256", "RS256"):
        bad = key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce(), header={"typ": "openid4vci-proof+jwt", "alg": alg, "jwk": holder.public_jwk()})
        _oauth_error(wallet.credential(cfg, [bad]), 400, "invalid_proof")
    # a signature by another key
    other = P256Signer.generate()
    forged = key_proof(other, aud=wallet.issuer, nonce=wallet.nonce(), header={"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": holder.public_jwk()})
    _oauth_error(wallet.credential(cfg, [forged]), 400, "invalid_proof")
    # no nonce; an unknown nonce
    _oauth_error(wallet.credential(cfg, [key_proof(holder, aud=wallet.issuer, nonce=None)]), 400, "invalid_nonce")
    _oauth_error(wallet.credential(cfg, [key_proof(holder, aud=wallet.issuer, nonce="made-up")]), 400, "invalid_nonce")
    # an unknown configuration, and one not offered
    _oauth_error(wallet.credential("mdoc_thing", [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())]), 400, "unknown_credential_configuration")
    # no proof at all, garbage body
    _oauth_error(wallet.credential(cfg, [], body={"credential_configuration_id": cfg}), 400, "invalid_proof")
    r = wallet.http.post(
        wallet.metadata["credential_endpoint"], content=b"{", headers={"Authorization": f"Bearer {wallet.access_token}", "Content-Type": "application/json"}
    )
    _oauth_error(r, 400, "invalid_credential_request")
    # no token, a wrong token
    _oauth_error(wallet.credential(cfg, [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())], headers={}), 401, "invalid_token")
    r = wallet.credential(cfg, [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())], headers={"Authorization": "Bearer nope"})
    _oauth_error(r, 401, "invalid_token")
    assert r.headers["www-authenticate"].startswith("Bearer")
    # after every refusal: still offered, and redeemable
    assert client.get(f"/microcredentials/offers/{wallet.created['id']}").json()["state"] == "offered"
    r = wallet.credential(cfg, [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())])
    assert r.status_code == 200, r.text


def test_reused_nonce(live, client, example_input):
    first = Wallet(live, offer(client, example_input))
    second = Wallet(live, offer(client, example_input))
    assert first.token().status_code == 200 and second.token().status_code == 200
    holder = P256Signer.generate()
    nonce = first.nonce()
    assert first.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=first.issuer, nonce=nonce)]).status_code == 200
    _oauth_error(second.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=second.issuer, nonce=nonce)]), 400, "invalid_nonce")


def test_one_nonce_raced_by_several_wallets_is_used_once_and_the_losers_stay_redeemable(live, client, example_input):
    """The nonce is used in the credentials' unit of the group commit: of concurrent requests with one c_nonce,
    exactly one is issued; the others get invalid_nonce, store nothing, and their offers are still redeemable."""
    from concurrent.futures import ThreadPoolExecutor

    wallets = [Wallet(live, offer(client, example_input, configurations=["eu_microcredential_sd_jwt"])) for _ in range(4)]
    assert all(w.token().status_code == 200 for w in wallets)
    nonce = wallets[0].nonce()
    holder = P256Signer.generate()
    proofs = [key_proof(holder, aud=w.issuer, nonce=nonce) for w in wallets]
    with ThreadPoolExecutor(len(wallets)) as pool:
        answers = list(pool.map(lambda pair: pair[0].credential("eu_microcredential_sd_jwt", [pair[1]]), zip(wallets, proofs, strict=True)))
    assert sorted(r.status_code for r in answers) == [200, 400, 400, 400], [r.text for r in answers]
    for wallet, r in zip(wallets, answers, strict=True):
        state = client.get(f"/microcredentials/offers/{wallet.created['id']}").json()
        if r.status_code == 200:
            assert state["state"] == "redeemed" and len(state["credential_ids"]) == 1
            continue
        _oauth_error(r, 400, "invalid_nonce")
        assert state["state"] == "offered" and state["credential_ids"] == []
        again = wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())])
        assert again.status_code == 200, again.text


# -- DPoP


def test_a_dpop_bound_token_is_never_accepted_without_its_proof(live, client, example_input):
    key = P256Signer.generate()
    wallet = Wallet(live, offer(client, example_input), dpop_key=key)
    r = wallet.token()
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP"
    url = wallet.metadata["credential_endpoint"]
    holder = P256Signer.generate()
    cfg = "eu_microcredential_sd_jwt"
    token = wallet.access_token

    def attempt(headers):
        return wallet.credential(cfg, [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())], headers=headers)

    # as a bearer token; with the DPoP scheme but no proof
    _oauth_error(attempt({"Authorization": f"Bearer {token}"}), 401, "invalid_token")
    r = attempt({"Authorization": f"DPoP {token}"})
    _oauth_error(r, 401, "invalid_token")
    assert r.headers["www-authenticate"].startswith("DPoP")
    # a proof by another key; without ath; for another URL or method; too old
    _oauth_error(
        attempt({"Authorization": f"DPoP {token}", "DPoP": dpop_proof(P256Signer.generate(), "POST", url, access_token=token)}), 401, "invalid_dpop_proof"
    )
    _oauth_error(attempt({"Authorization": f"DPoP {token}", "DPoP": dpop_proof(key, "POST", url)}), 401, "invalid_dpop_proof")
    _oauth_error(attempt({"Authorization": f"DPoP {token}", "DPoP": dpop_proof(key, "POST", url + "x", access_token=token)}), 401, "invalid_dpop_proof")
    _oauth_error(attempt({"Authorization": f"DPoP {token}", "DPoP": dpop_proof(key, "GET", url, access_token=token)}), 401, "invalid_dpop_proof")
    old = int(time.time()) - 3600
    _oauth_error(attempt({"Authorization": f"DPoP {token}", "DPoP": dpop_proof(key, "POST", url, access_token=token, iat=old)}), 401, "invalid_dpop_proof")
    # a replayed proof (same jti)
    proof = dpop_proof(key, "POST", url, access_token=token, jti="once")
    _oauth_error(attempt({"Authorization": f"DPoP {token}", "DPoP": proof + "x"}), 401, "invalid_dpop_proof")  # bad signature, jti not kept
    r = attempt({"Authorization": f"DPoP {token}", "DPoP": proof})
    assert r.status_code == 200, r.text


def test_a_refused_request_uses_its_dpop_proof_up(live, client, example_input):
    """RFC 9449 §11.1: the jti is recorded with the redemption's own writes, and alone when the request is refused
    after its proof was checked: the same proof is then a replay, even though the refused request stored nothing."""
    key = P256Signer.generate()
    wallet = Wallet(live, offer(client, example_input), dpop_key=key)
    assert wallet.token().status_code == 200
    url, token, holder = wallet.metadata["credential_endpoint"], wallet.access_token, P256Signer.generate()
    proof = dpop_proof(key, "POST", url, access_token=token, jti="refused-once")
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    # refused after the DPoP check: a proof for another audience
    _oauth_error(
        wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud="https://elsewhere.example", nonce=wallet.nonce())], headers=headers),
        400,
        "invalid_proof",
    )
    r = wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())], headers=headers)
    _oauth_error(r, 401, "invalid_dpop_proof")
    assert "replay" in r.json()["error_description"]
    # a fresh proof redeems the offer: the refused requests stored nothing
    headers = {"Authorization": f"DPoP {token}", "DPoP": dpop_proof(key, "POST", url, access_token=token, jti="fresh")}
    r = wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())], headers=headers)
    assert r.status_code == 200, r.text


def test_a_refused_token_request_uses_its_dpop_proof_up(live, client, example_input):
    key = Ed25519Signer.generate()
    a = Wallet(live, offer(client, example_input))
    b = Wallet(live, offer(client, example_input))
    assert a.token().status_code == 200
    proof = dpop_proof(key, "POST", a.as_metadata["token_endpoint"], jti="after-a-refusal")
    form = {"grant_type": GRANT, "pre-authorized_code": a.code, "tx_code": a.created["tx_code"]}
    _oauth_error(a.http.post(a.as_metadata["token_endpoint"], data=form, headers={"DPoP": proof}), 400, "invalid_grant")  # a's code was used
    form = {"grant_type": GRANT, "pre-authorized_code": b.code, "tx_code": b.created["tx_code"]}
    _oauth_error(b.http.post(b.as_metadata["token_endpoint"], data=form, headers={"DPoP": proof}), 400, "invalid_dpop_proof")
    assert b.token().status_code == 200


def test_dpop_jti_replay_at_the_token_endpoint(live, client, example_input):
    key = Ed25519Signer.generate()
    a = Wallet(live, offer(client, example_input))
    b = Wallet(live, offer(client, example_input))
    proof = dpop_proof(key, "POST", a.as_metadata["token_endpoint"], jti="same")
    r = a.http.post(
        a.as_metadata["token_endpoint"], data={"grant_type": GRANT, "pre-authorized_code": a.code, "tx_code": a.created["tx_code"]}, headers={"DPoP": proof}
    )
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP"
    r = b.http.post(
        b.as_metadata["token_endpoint"], data={"grant_type": GRANT, "pre-authorized_code": b.code, "tx_code": b.created["tx_code"]}, headers={"DPoP": proof}
    )
    _oauth_error(r, 400, "invalid_dpop_proof")
    # the refused request did not use b's code
    assert b.token().status_code == 200


# -- the provider's side


def test_offer_refusals_are_problem_json_and_store_nothing(live, client, example_input):
    r = client.post("/microcredentials/offers", json={"microcredential": {"title": "x"}})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post("/microcredentials/offers", json={"microcredential": example_input, "configurations": ["mso_mdoc"]})
    assert r.status_code == 400 and r.json()["errors"][0]["pointer"] == "/configurations", r.text
    r = httpx.post(f"{live.url}/microcredentials/offers", json={"microcredential": example_input})
    assert r.status_code == 401
    assert client.get("/microcredentials/offers/nope").status_code == 404
    other = live.app.state.issuance.providers.create(slug="other", name="Other", country="IE")
    created = offer(client, example_input)
    r = httpx.get(f"{live.url}/microcredentials/offers/{created['id']}", headers={"Authorization": f"Bearer {other[1]}"})
    assert r.status_code == 404
    # another issuer's token endpoint does not know the code
    w = Wallet(live, created)
    r = w.http.post(f"{live.url}/issuers/other/token", data={"grant_type": GRANT, "pre-authorized_code": w.code, "tx_code": created["tx_code"]})
    _oauth_error(r, 400, "invalid_grant")
    assert w.token().status_code == 200


def test_offer_state_expires_at_and_shape(live, client, example_input):
    created = offer(client, example_input)
    assert set(created) == {"id", "credential_offer", "credential_offer_uri", "tx_code", "expires_at"}
    assert created["credential_offer"]["credential_configuration_ids"] == list(CONFIGURATIONS)
    state = client.get(f"/microcredentials/offers/{created['id']}").json()
    assert state["state"] == "offered" and state["credential_ids"] == [] and state["expires_at"] == created["expires_at"]


# -- the learner's page


def test_the_learners_page_shows_what_by_whom_a_link_and_a_qr_code(live, client, example_input):
    created = offer(client, example_input)
    page = httpx.get(f"{live.url}/offers/{created['id']}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "University of Zed" in html and example_input["title"]["en"] in html
    assert f'href="{created["credential_offer_uri"].replace("&", "&amp;")}"' in html
    assert "<svg" in html and 'id="offer-tx-code"' in html
    assert created["tx_code"] not in html.split('id="offer-qr"')[0]  # the code travels on another channel
    assert "EU micro-credential" in html and "Open Badges 3.0" in html
    wallet = Wallet(live, created)
    assert wallet.token().status_code == 200
    holder = P256Signer.generate()
    assert wallet.credential("eu_microcredential_sd_jwt", [key_proof(holder, aud=wallet.issuer, nonce=wallet.nonce())]).status_code == 200
    done = httpx.get(f"{live.url}/offers/{created['id']}").text
    assert 'id="offer-done"' in done and "<svg" not in done
    assert httpx.get(f"{live.url}/offers/no-such-offer").status_code == 404
