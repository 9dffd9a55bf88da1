def test_domain_counters_count_issuance_and_verification(database_url, tmp_path):
    """Issuing and verifying over the real app moves the two domain counters."""
    import json

    import httpx
    from prometheus_client import REGISTRY

    from tests import live_server
    from tests.conftest import ROOT

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    server = live_server.start(database_url, tmp_path, status_cache_seconds=0)
    try:
        _, key = server.app.state.issuance.providers.create(slug="metered", name="Metered", country="IE")
        example = json.loads((ROOT / "app" / "credentials" / "example_input.json").read_text())
        before_issued = value("microcred_credentials_issued_total", format="ob3", proof="eddsa-jcs-2022")
        before_ok = value("microcred_verifications_total", outcome="verified", reason="none")
        before_revoked = value("microcred_verifications_total", outcome="failed", reason="status")
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
            vc = c.post("/microcredentials", json={"proof": "eddsa-jcs-2022", "microcredential": example}).json()
            assert c.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
            c.post("/credentials/status", json={"credentialId": vc["id"], "status": "revoked"})
            assert c.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 422
        assert value("microcred_credentials_issued_total", format="ob3", proof="eddsa-jcs-2022") == before_issued + 1
        assert value("microcred_verifications_total", outcome="verified", reason="none") == before_ok + 1
        assert value("microcred_verifications_total", outcome="failed", reason="status") == before_revoked + 1
    finally:
        server.stop()
