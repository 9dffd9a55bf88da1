"""EU trusted lists (issue 18): a test List of Trusted Lists and a national list in the ETSI TS 119 612 XML format,
XML-signed here by test keys (signxml), become the pinned, dated snapshot through ``microcred trust refresh-lotl``
(signatures checked: the LOTL's with the pinned certificate, the national list's with the certificate the LOTL
gives for its territory); the HTTP verifier's ``seal_trusted_list`` check then reads it: passed for a qualified
seal certificate from a granted CA/QC service, failed for one not on the lists or a withdrawn service,
indeterminate when the snapshot is stale or lacks the issuer's country, with the snapshot's date in the reason."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from tests.conftest import ROOT
from tests.test_jades_seals import SealCa

NOW = datetime.now(UTC).replace(microsecond=0)
TSL = "http://uri.etsi.org/02231/v2#"
#: qcStatements (ETSI EN 319 412-5): QcCompliance, and QcType id-etsi-qct-eseal
QC_ESEAL = bytes.fromhex("301f" + "3008" + "060604008e460101" + "3013" + "060604008e460106" + "3009" + "060704008e46010602")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_and_certificate(cn: str, country: str = "BE"):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country), x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _der(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


class QualifiedCa(SealCa):
    """tests/test_jades_seals.SealCa whose sealing certificate says it is qualified for electronic seals."""

    def __init__(self, **kw):
        super().__init__(**kw)
        builder = (
            x509.CertificateBuilder()
            .subject_name(self.leaf.subject)
            .issuer_name(self.root.subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=365))
            .not_valid_after(NOW + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3"), QC_ESEAL), critical=False)
        )
        self.leaf = builder.sign(self.root_key, hashes.SHA256())


def _sub(parent, tag: str, text: str | None = None, **attributes):
    element = etree.SubElement(parent, f"{{{TSL}}}{tag}", **attributes)
    if text is not None:
        element.text = text
    return element


def _names(parent, tag: str, name: str):
    _sub(_sub(parent, tag), "Name", name, **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})


def _list(territory: str, tsl_type: str, *, next_update: datetime, pointers=(), services=()) -> etree._Element:
    """A TrustServiceStatusList (ETSI TS 119 612 §5): pointers (territory, signing certificate), services
    (provider, name, CA certificate, status, since, history, additional)."""
    root = etree.Element(f"{{{TSL}}}TrustServiceStatusList", nsmap={None: TSL}, TSLTag="http://uri.etsi.org/19612/TSLTag", Id="tsl")
    info = _sub(root, "SchemeInformation")
    _sub(info, "TSLVersionIdentifier", "5")
    _sub(info, "TSLSequenceNumber", "42")
    _sub(info, "TSLType", tsl_type)
    _names(info, "SchemeOperatorName", f"{territory} test operator")
    _sub(info, "SchemeTerritory", territory)
    if pointers:
        others = _sub(info, "PointersToOtherTSL")
        for where, certificate in pointers:
            pointer = _sub(others, "OtherTSLPointer")
            _sub(_sub(_sub(_sub(pointer, "ServiceDigitalIdentities"), "ServiceDigitalIdentity"), "DigitalId"), "X509Certificate", _der(certificate))
            _sub(pointer, "TSLLocation", f"https://tl.example/{where}.xml")
            extra = _sub(pointer, "AdditionalInformation")
            _sub(_sub(extra, "OtherInformation"), "TSLType", "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric")
            _sub(_sub(extra, "OtherInformation"), "SchemeTerritory", where)
    _sub(info, "ListIssueDateTime", _stamp(NOW - timedelta(days=5)))
    _sub(_sub(info, "NextUpdate"), "dateTime", _stamp(next_update))
    if services:
        providers = _sub(root, "TrustServiceProviderList")
        for provider, name, certificate, status, since, history, additional in services:
            tsp = _sub(providers, "TrustServiceProvider")
            _names(_sub(tsp, "TSPInformation"), "TSPName", provider)
            service = _sub(_sub(tsp, "TSPServices"), "TSPService")
            si = _sub(service, "ServiceInformation")
            _sub(si, "ServiceTypeIdentifier", "http://uri.etsi.org/TrstSvc/Svctype/CA/QC")
            _names(si, "ServiceName", name)
            _sub(_sub(_sub(si, "ServiceDigitalIdentity"), "DigitalId"), "X509Certificate", _der(certificate))
            _sub(si, "ServiceStatus", f"http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/{status}")
            _sub(si, "StatusStartingTime", _stamp(since))
            if additional:
                extension = _sub(_sub(si, "ServiceInformationExtensions"), "Extension", Critical="false")
                _sub(_sub(extension, "AdditionalServiceInformation"), "URI", f"http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/{additional}")
            if history:
                old = _sub(_sub(service, "ServiceHistory"), "ServiceHistoryInstance")
                _sub(old, "ServiceStatus", f"http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/{history[0]}")
                _sub(old, "StatusStartingTime", _stamp(history[1]))
    return root


def _signed(root, key, certificate) -> bytes:
    from signxml import SignatureMethod, XMLSigner, methods

    signer = XMLSigner(method=methods.enveloped, signature_algorithm=SignatureMethod.ECDSA_SHA256, c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return etree.tostring(signer.sign(root, key=key, cert=[pem]), xml_declaration=True, encoding="UTF-8")


class Lists:
    """A LOTL signer, a national (IE) list signer, and the lists they sign, written to a download folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.lotl_key, self.lotl_cert = _key_and_certificate("Test LOTL signer")
        self.ie_key, self.ie_cert = _key_and_certificate("Test IE TL signer", "IE")
        self.pinned = folder.parent / "pinned.pem"
        self.pinned.write_bytes(self.lotl_cert.public_bytes(serialization.Encoding.PEM))

    def write(self, services, *, lotl_next=None, ie_next=None, ie_signer=None) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        lotl = _list(
            "EU",
            "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists",
            next_update=lotl_next or NOW + timedelta(days=180),
            pointers=[("EU", self.lotl_cert), ("IE", self.ie_cert), ("FR", self.ie_cert)],
        )
        (self.folder / "eu-lotl.xml").write_bytes(_signed(lotl, self.lotl_key, self.lotl_cert))
        ie = _list("IE", "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric", next_update=ie_next or NOW + timedelta(days=180), services=services)
        key, cert = ie_signer or (self.ie_key, self.ie_cert)
        (self.folder / "IE.xml").write_bytes(_signed(ie, key, cert))
        return self.folder


def _cli(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update(MICROCRED_ENVIRONMENT="test", MICROCRED_DEMO_PROVIDER="false")
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, cwd=ROOT, timeout=120, env=env, stdin=subprocess.DEVNULL)


def _refresh(lists: Lists, target: Path, *extra: str):
    return _cli("trust", "refresh-lotl", "--from", str(lists.folder), "--pinned", str(lists.pinned), "--to", str(target), "--json", *extra)


def _service(ca: SealCa, status="granted", since=None, history=None, additional="ForeSeals"):
    return ("Test Trust Services Ltd", "Test Qualified Seal CA", ca.root, status, since or NOW - timedelta(days=3000), history, additional)


@pytest.fixture(scope="module")
def ca() -> QualifiedCa:
    return QualifiedCa()


def test_refresh_checks_the_signatures_and_keeps_a_dated_snapshot(tmp_path, ca):
    lists = Lists(tmp_path / "download")
    lists.write([_service(ca)])
    done = _refresh(lists, tmp_path / "snapshot")
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    manifest = json.loads(done.stdout)
    assert manifest["takenAt"].startswith(NOW.strftime("%Y-%m-%d")) and list(manifest["lists"]) == ["IE"] and manifest["missing"] == ["FR"]
    import hashlib

    assert manifest["lists"]["IE"]["sha256"] == hashlib.sha256((tmp_path / "snapshot" / "IE.xml").read_bytes()).hexdigest()
    # another pinned certificate: the LOTL is refused, the snapshot is not replaced
    other = tmp_path / "other.pem"
    other.write_bytes(_key_and_certificate("Someone else")[1].public_bytes(serialization.Encoding.PEM))
    refused = _cli("trust", "refresh-lotl", "--from", str(lists.folder), "--pinned", str(other), "--to", str(tmp_path / "elsewhere"))
    assert refused.returncode != 0 and b"TRUSTED_LIST_SIGNATURE" in refused.stderr + refused.stdout and not (tmp_path / "elsewhere").exists()
    # a national list signed by a key the LOTL does not name for its territory
    lists.write([_service(ca)], ie_signer=_key_and_certificate("Impostor", "IE"))
    refused = _refresh(lists, tmp_path / "elsewhere")
    assert refused.returncode != 0 and b"TRUSTED_LIST_SIGNATURE" in refused.stderr + refused.stdout
    # a list changed after it was signed
    lists.write([_service(ca)])
    changed = (lists.folder / "IE.xml").read_bytes().replace(b"Svcstatus/granted", b"Svcstatus/grantex")
    (lists.folder / "IE.xml").write_bytes(changed)
    refused = _refresh(lists, tmp_path / "elsewhere")
    assert refused.returncode != 0 and b"TRUSTED_LIST_SIGNATURE" in refused.stderr + refused.stdout
    # no pinned certificate at all
    assert _cli("trust", "refresh-lotl", "--from", str(lists.folder), "--to", str(tmp_path / "elsewhere")).returncode != 0


@pytest.fixture
def live_with(database_url, tmp_path):
    """A live service reading the trusted-list snapshot in ``tmp_path/snapshot``."""
    from tests import live_server

    server = live_server.start(database_url, tmp_path, trusted_lists_dir=tmp_path / "snapshot")
    try:
        yield server
    finally:
        server.stop()


def _trusted_list_check(live, sealed) -> tuple[int, dict]:
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": sealed}, timeout=120)
    assert r.status_code in (200, 422), r.text[:2000]
    checks = {c["id"]: c for c in r.json()["checks"]}
    return r.status_code, checks["seal_trusted_list"]


def _snapshot(tmp_path, services, **kw) -> str:
    lists = Lists(tmp_path / f"download-{len(list(tmp_path.iterdir()))}")
    lists.write(services, **kw)
    done = _refresh(lists, tmp_path / "snapshot")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)["takenAt"]


def test_the_verifier_reads_the_snapshot(live_with, tmp_path, ca):
    live = live_with
    # no snapshot yet: indeterminate
    _, check = _trusted_list_check(live, ca.seal())
    assert check["outcome"] == "indeterminate" and check["code"] == "TRUSTED_LIST_UNAVAILABLE"

    taken = _snapshot(tmp_path, [_service(ca)])
    _, check = _trusted_list_check(live, ca.seal())
    assert check["outcome"] == "passed", check
    assert "qualified certificate for electronic seals from Test Qualified Seal CA of Test Trust Services Ltd on the IE trusted list" in check["reason"]
    assert f"snapshot of {taken}" in check["reason"] and check["details"]["snapshot"] == taken

    # a certificate from a CA on no list (the IE list is in the snapshot): failed
    _, check = _trusted_list_check(live, QualifiedCa().seal())
    assert check["outcome"] == "failed" and check["code"] == "NOT_ON_TRUSTED_LIST" and taken in check["reason"], check
    # a CA on the list, but a certificate that does not say it is a qualified seal certificate
    plain = SealCa()
    plain.root, plain.root_key = ca.root, ca.root_key
    plain.leaf = (
        x509.CertificateBuilder()
        .subject_name(ca.leaf.subject)
        .issuer_name(ca.root.subject)
        .public_key(plain.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca.root_key, hashes.SHA256())
    )
    _, check = _trusted_list_check(live, plain.seal())
    assert check["outcome"] == "failed" and check["code"] == "NOT_A_QUALIFIED_SEAL_CERTIFICATE", check

    # the service withdrawn before the signing time (granted before): failed
    _snapshot(tmp_path, [_service(ca, status="withdrawn", since=NOW - timedelta(days=10), history=("granted", NOW - timedelta(days=3000)))])
    _, check = _trusted_list_check(live, ca.seal(sig_t=NOW - timedelta(days=1)))
    assert check["outcome"] == "failed" and check["code"] == "TRUST_SERVICE_NOT_GRANTED" and "withdrawn" in check["reason"], check
    # ...and signed while it was granted: passed (the service history, TS 119 612 §5.6)
    _, check = _trusted_list_check(live, ca.seal(sig_t=NOW - timedelta(days=20)))
    assert check["outcome"] == "passed", check

    # a service for electronic signatures only
    _snapshot(tmp_path, [_service(ca, additional="ForeSignatures")])
    _, check = _trusted_list_check(live, ca.seal())
    assert check["outcome"] == "failed" and check["code"] == "NOT_FOR_ESEALS", check

    # a stale snapshot: indeterminate, with its date
    taken = _snapshot(tmp_path, [_service(ca)], ie_next=NOW - timedelta(days=1))
    _, check = _trusted_list_check(live, ca.seal())
    assert check["outcome"] == "indeterminate" and check["code"] == "TRUSTED_LIST_STALE", check
    assert f"snapshot of {taken} is stale" in check["reason"] and _stamp(NOW - timedelta(days=1)) in check["reason"]

    # a snapshot file changed after the refresh: indeterminate, never passed
    (tmp_path / "snapshot" / "IE.xml").write_bytes((tmp_path / "snapshot" / "IE.xml").read_bytes() + b"\n")
    manifest = tmp_path / "snapshot" / "manifest.json"
    os.utime(manifest, (manifest.stat().st_atime, manifest.stat().st_mtime + 5))
    _, check = _trusted_list_check(live, ca.seal())
    assert check["outcome"] == "indeterminate" and check["code"] == "TRUSTED_LIST_SNAPSHOT_CHANGED", check
    # a list file gone, a manifest that is not one: indeterminate, never a 500
    (tmp_path / "snapshot" / "IE.xml").unlink()
    os.utime(manifest, (manifest.stat().st_atime, manifest.stat().st_mtime + 10))
    _, check = _trusted_list_check(live, ca.seal())
    assert check["outcome"] == "indeterminate" and check["code"] == "TRUSTED_LIST_SNAPSHOT_UNREADABLE", check
    manifest.write_text('{"lists": []}')
    os.utime(manifest, (manifest.stat().st_atime, manifest.stat().st_mtime + 20))
    _, check = _trusted_list_check(live, ca.seal())
    assert check["outcome"] == "indeterminate" and check["code"] == "TRUSTED_LIST_SNAPSHOT_UNREADABLE", check


def test_the_issuers_country_missing_from_the_snapshot_is_indeterminate(live_with, tmp_path, ca):
    _snapshot(tmp_path, [_service(ca)])
    german = QualifiedCa()
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"), x509.NameAttribute(NameOID.COMMON_NAME, "Test DE Root")])
    german.root = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(german.root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=3000))
        .not_valid_after(NOW + timedelta(days=3000))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(german.root_key, hashes.SHA256())
    )
    german.leaf = (
        x509.CertificateBuilder()
        .subject_name(german.leaf.subject)
        .issuer_name(name)
        .public_key(german.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(german.root_key, hashes.SHA256())
    )
    _, check = _trusted_list_check(live_with, german.seal())
    assert check["outcome"] == "indeterminate" and check["code"] == "TRUSTED_LIST_MISSING" and "list of DE" in check["reason"], check
