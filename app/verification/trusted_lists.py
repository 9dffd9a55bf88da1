"""EU trusted lists (ETSI TS 119 612 v2.x, the XML format of the EU List of Trusted Lists and the national lists of
Implementing Decision (EU) 2015/1505), read from a pinned, dated snapshot the operator refreshes; never fetched.

* ``refresh(source, target, pinned)``: the operator's ``microcred trust refresh-lotl --from DIR``. ``DIR`` holds the
  LOTL and the national lists the operator downloaded. The LOTL's XML signature (XMLDSig, TS 119 612 §5.7.1) must
  verify with one of the pinned LOTL signing certificates (those the Official Journal publishes, Implementing
  Decision 2015/1505 Art. 4, in a PEM file); each national list's with a certificate the LOTL gives for its
  territory (``OtherTSLPointer`` / ``ServiceDigitalIdentities``, §5.3.13). What was signed is what is kept:
  the files, a ``manifest.json`` with each file's SHA-256, the lists' issue and next-update dates, and the time
  of the snapshot.
* ``Snapshot.load(folder)``: the kept files, each checked against its digest; ``Snapshot.check(chain, signed_at,
  now)``: the ``seal_trusted_list`` check of a JAdES seal (app/verification/jades.py). A seal's certificate is
  issued by a trust service of type ``CA/QC`` (§5.5.1.1) whose status was ``granted`` at the signing time
  (§5.5.4, the service history §5.6), for electronic seals (``ForeSeals``, §5.5.9.4, or no restriction).
  ``indeterminate`` when the snapshot is missing, stale (past a list's NextUpdate, §5.3.15) or lacks the
  issuer's country, with the snapshot's date in the reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from lxml import etree

from app.errors import MalformedValueError
from app.verification.report import Check

TSL = "http://uri.etsi.org/02231/v2#"
NS = {"tsl": TSL}
LOTL_TYPE = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists"
CA_QC = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
GRANTED = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
FOR_ESEALS = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals"
SVC_INFO_EXT = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"
MAX_LIST_BYTES = 32 * 1024 * 1024  # the LOTL is about 0.5 MB, the largest national list about 10 MB
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Service:
    """One trust service of a national list: its certificate, type, name, provider and status over time."""

    territory: str
    provider: str
    name: str
    type: str
    certificates: tuple[x509.Certificate, ...]
    #: (status, from) newest first: the current status, then the service history
    statuses: tuple[tuple[str, datetime], ...]
    additional: tuple[str, ...]

    def status_at(self, moment: datetime) -> str | None:
        for status, since in self.statuses:
            if since <= moment:
                return status
        return None

    def issued(self, certificate: x509.Certificate) -> bool:
        for own in self.certificates:
            if own == certificate:
                return True
            if certificate.issuer == own.subject:
                try:
                    certificate.verify_directly_issued_by(own)
                    return True
                except (ValueError, TypeError, InvalidSignature):
                    continue
        return False


@dataclass(frozen=True)
class TrustedList:
    territory: str
    type: str
    sequence: str
    issued: datetime | None
    next_update: datetime | None
    pointers: dict[str, list[x509.Certificate]]  # territory → the certificates that sign its list (LOTL only)
    services: tuple[Service, ...]


def _text(element, path: str) -> str | None:
    found = element.find(path, NS)
    return found.text.strip() if found is not None and found.text else None


def _name(element, path: str) -> str:
    names = element.findall(f"{path}/tsl:Name", NS)
    english = [n for n in names if n.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"]
    chosen = (english or names)[:1]
    return (chosen[0].text or "").strip()[:200] if chosen else ""


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _certificates(element) -> list[x509.Certificate]:
    out = []
    for item in element.iterfind(".//tsl:DigitalId/tsl:X509Certificate", NS):
        try:
            out.append(x509.load_der_x509_certificate(base64.b64decode("".join((item.text or "").split()), validate=True)))
        except (ValueError, binascii.Error):
            continue  # a certificate this reader cannot parse identifies nothing
    return out


def _parser() -> etree.XMLParser:
    # no DTDs, no entities, no network: a trusted list is plain XML (XML External Entity attacks)
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False)


def parse(data: bytes) -> TrustedList:
    """A trusted list's facts (TS 119 612 §5.3 scheme information, §5.5 services); ``MalformedValueError`` if it is not one."""
    if len(data) > MAX_LIST_BYTES:
        raise MalformedValueError(f"a trusted list of {len(data):,} bytes is larger than the {MAX_LIST_BYTES:,} accepted", code="TRUSTED_LIST_TOO_LARGE")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedValueError(f"not XML: {str(exc)[:200]}", code="MALFORMED_TRUSTED_LIST") from None
    return _read(root)


def _read(root) -> TrustedList:
    if root.tag != f"{{{TSL}}}TrustServiceStatusList":
        raise MalformedValueError("not an ETSI TS 119 612 TrustServiceStatusList", code="MALFORMED_TRUSTED_LIST")
    info = root.find("tsl:SchemeInformation", NS)
    if info is None:
        raise MalformedValueError("the trusted list has no SchemeInformation", code="MALFORMED_TRUSTED_LIST")
    territory = _text(info, "tsl:SchemeTerritory") or ""
    pointers: dict[str, list[x509.Certificate]] = {}
    for pointer in info.iterfind("tsl:PointersToOtherTSL/tsl:OtherTSLPointer", NS):
        where = pointer.find(".//tsl:OtherInformation/tsl:SchemeTerritory", NS)
        if where is not None and where.text:
            pointers.setdefault(where.text.strip(), []).extend(_certificates(pointer))
    services = []
    for tsp in root.iterfind("tsl:TrustServiceProviderList/tsl:TrustServiceProvider", NS):
        provider = _name(tsp, "tsl:TSPInformation/tsl:TSPName")
        for service in tsp.iterfind("tsl:TSPServices/tsl:TSPService", NS):
            si = service.find("tsl:ServiceInformation", NS)
            if si is None:
                continue
            statuses = [(_text(si, "tsl:ServiceStatus") or "", _time(_text(si, "tsl:StatusStartingTime")))]
            for old in service.iterfind("tsl:ServiceHistory/tsl:ServiceHistoryInstance", NS):
                statuses.append((_text(old, "tsl:ServiceStatus") or "", _time(_text(old, "tsl:StatusStartingTime"))))
            known = sorted(((s, t) for s, t in statuses if t is not None), key=lambda st: st[1], reverse=True)
            additional = tuple(
                (u.text or "").strip() for u in si.iterfind("tsl:ServiceInformationExtensions/tsl:Extension/tsl:AdditionalServiceInformation/tsl:URI", NS)
            )
            services.append(
                Service(
                    territory,
                    provider,
                    _name(si, "tsl:ServiceName"),
                    _text(si, "tsl:ServiceTypeIdentifier") or "",
                    tuple(_certificates(si)),
                    tuple(known),
                    additional,
                )
            )
    return TrustedList(
        territory,
        _text(info, "tsl:TSLType") or "",
        _text(info, "tsl:TSLSequenceNumber") or "",
        _time(_text(info, "tsl:ListIssueDateTime")),
        _time(_text(info, "tsl:NextUpdate/tsl:dateTime")),
        pointers,
        tuple(services),
    )


def verify_signature(data: bytes, certificates: list[x509.Certificate]) -> bytes:
    """The list as its enveloped XML signature covers it (TS 119 612 §5.7.1), verified with one of ``certificates``
    (never with a certificate the list carries itself); ``MalformedValueError`` when none verifies it."""
    from signxml import SignatureConfiguration, SignatureMethod, XMLVerifier
    from signxml.exceptions import InvalidInput
    from signxml.exceptions import InvalidSignature as XmlInvalidSignature

    asymmetric = frozenset(m for m in SignatureMethod if not m.name.startswith("HMAC"))
    config = SignatureConfiguration(expect_references=True, signature_methods=asymmetric)
    last = "no certificate to check it with"
    for certificate in certificates:
        try:
            results = XMLVerifier().verify(data, x509_cert=certificate, expect_config=config, parser=_parser())
        except (XmlInvalidSignature, InvalidInput, ValueError) as exc:
            last = str(exc)[:200]
            continue
        for result in results if isinstance(results, list) else [results]:
            signed = result.signed_xml
            if signed is not None and signed.tag == f"{{{TSL}}}TrustServiceStatusList":
                return etree.tostring(signed)
        last = "the signature does not cover the whole list"
    raise MalformedValueError(f"the trusted list's signature does not verify with the expected certificates: {last}", code="TRUSTED_LIST_SIGNATURE")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _day(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _entry(name: str, data: bytes, tl: TrustedList) -> dict:
    return {"file": name, "sha256": _sha256(data), "sequence": tl.sequence, "issued": _day(tl.issued), "nextUpdate": _day(tl.next_update)}


def refresh(source: Path, target: Path, pinned: list[x509.Certificate], now: datetime | None = None) -> dict:
    """Reads the LOTL and national lists in ``source``, checks their signatures (the LOTL's with ``pinned``), and
    writes the snapshot to ``target``: the signed files and ``manifest.json``. Returns the manifest."""
    now = now or datetime.now(UTC)
    if not pinned:
        raise MalformedValueError("no pinned LOTL signing certificate: give the PEM file the Official Journal publishes", code="NO_PINNED_CERTIFICATE")
    lotl_data, lists = None, []
    for path in sorted(source.glob("*.xml")):
        data = path.read_bytes()
        parsed = parse(data)
        if parsed.type == LOTL_TYPE:
            if lotl_data is not None:
                raise MalformedValueError(f"{source} holds more than one List of Trusted Lists", code="MALFORMED_TRUSTED_LIST")
            lotl_data = data
        else:
            lists.append((path.name, data, parsed))
    if lotl_data is None:
        raise MalformedValueError(f"{source} holds no EU List of Trusted Lists (TSLType EUlistofthelists)", code="NO_LOTL")
    lotl = _read(etree.fromstring(verify_signature(lotl_data, pinned), _parser()))
    kept: dict[str, tuple[bytes, TrustedList]] = {}
    for name, data, parsed in lists:
        signers = lotl.pointers.get(parsed.territory)
        if not signers:
            raise MalformedValueError(f"{name}: the LOTL points to no list of territory {parsed.territory!r}", code="UNKNOWN_TERRITORY")
        signed = verify_signature(data, signers)
        kept[parsed.territory] = (data, _read(etree.fromstring(signed, _parser())))
    target.mkdir(parents=True, exist_ok=True)
    files = {"lotl.xml": lotl_data, **{f"{t}.xml": d for t, (d, _) in kept.items()}}
    for name, data in files.items():
        (target / f".{name}.tmp").write_bytes(data)
        (target / f".{name}.tmp").replace(target / name)
    manifest = {
        "takenAt": _day(now),
        "lotl": _entry("lotl.xml", lotl_data, lotl),
        "lists": {t: _entry(f"{t}.xml", d, tl) for t, (d, tl) in sorted(kept.items())},
        "missing": sorted(set(lotl.pointers) - set(kept) - {"EU"}),
    }
    (target / f".{MANIFEST}.tmp").write_text(json.dumps(manifest, indent=2))
    (target / f".{MANIFEST}.tmp").replace(target / MANIFEST)
    return manifest


@dataclass
class Snapshot:
    """A refreshed snapshot: the national lists' services, and the dates that say whether it is stale."""

    taken: str
    lists: dict[str, TrustedList] = field(default_factory=dict)
    lotl_next_update: datetime | None = None

    @classmethod
    def load(cls, folder: Path) -> Snapshot | None:
        """The snapshot in ``folder``; ``None`` when there is none; ``MalformedValueError`` when a file does not
        match its digest."""
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            raise MalformedValueError(f"the trusted-list snapshot's {MANIFEST} cannot be read", code="TRUSTED_LIST_SNAPSHOT_UNREADABLE") from None
        try:
            snapshot = cls(str(manifest["takenAt"]), lotl_next_update=_time(manifest["lotl"].get("nextUpdate")))
            entries = [(territory, str(entry["file"]), entry.get("sha256")) for territory, entry in manifest["lists"].items()]
        except (KeyError, TypeError, AttributeError):
            reason = f"the trusted-list snapshot's {MANIFEST} is not one refresh-lotl wrote"
            raise MalformedValueError(reason, code="TRUSTED_LIST_SNAPSHOT_UNREADABLE") from None
        for territory, name, digest in entries:
            try:
                data = (folder / Path(name).name).read_bytes()
            except OSError:
                raise MalformedValueError(f"the snapshot's {name[:100]} cannot be read", code="TRUSTED_LIST_SNAPSHOT_UNREADABLE") from None
            if _sha256(data) != digest:
                raise MalformedValueError(f"the snapshot's {name[:100]} does not match its digest", code="TRUSTED_LIST_SNAPSHOT_CHANGED")
            snapshot.lists[territory] = parse(data)
        return snapshot

    def check(self, chain: list[x509.Certificate], signed_at: datetime | None, now: datetime, claim: str, details: dict) -> Check:
        """The ``seal_trusted_list`` check of a seal with certificate ``chain`` (see the module docstring)."""
        details = {**details, "snapshot": self.taken}
        dated = f"EU trusted-list snapshot of {self.taken}"
        due = [(t, tl.next_update) for t, tl in self.lists.items() if tl.next_update and tl.next_update < now]
        if self.lotl_next_update and self.lotl_next_update < now:
            due.insert(0, ("the LOTL", self.lotl_next_update))
        if due:
            what, when = due[0]
            return Check(
                "seal_trusted_list",
                "indeterminate",
                f"the {dated} is stale: the next update of {what} was due {_day(when)}; refresh it (microcred trust refresh-lotl)",
                "TRUSTED_LIST_STALE",
                details,
            )
        moment = signed_at or now
        for service in (s for tl in self.lists.values() for s in tl.services):
            if service.type != CA_QC or not any(service.issued(c) for c in chain):
                continue
            status = service.status_at(moment)
            extensions = [a for a in service.additional if a.startswith(SVC_INFO_EXT) and a.rsplit("/", 1)[-1].startswith("For")]
            where = f"{service.name} of {service.provider} on the {service.territory} trusted list ({dated})"
            details = {**details, "service": service.name, "provider": service.provider, "territory": service.territory, "serviceStatus": status}
            if status != GRANTED:
                state = (status or "no status").rsplit("/", 1)[-1]
                reason = f"the certificate's issuer {where} was {state} at {_day(moment)}"
                return Check("seal_trusted_list", "failed", reason, "TRUST_SERVICE_NOT_GRANTED", details)
            if extensions and FOR_ESEALS not in extensions:
                return Check("seal_trusted_list", "failed", f"{where} is qualified, but not for electronic seals", "NOT_FOR_ESEALS", details)
            if "says it is" not in claim:
                return Check("seal_trusted_list", "failed", f"issued under {where}, but {claim}", "NOT_A_QUALIFIED_SEAL_CERTIFICATE", details)
            reason = f"a qualified certificate for electronic seals from {where}, granted at {_day(moment)}"
            return Check("seal_trusted_list", "passed", reason, details=details)
        country = chain[-1].issuer.get_attributes_for_oid(x509.oid.NameOID.COUNTRY_NAME)
        territory = str(country[0].value) if country else None
        if territory and territory not in self.lists and not (territory == "GB" and "UK" in self.lists):
            return Check(
                "seal_trusted_list",
                "indeterminate",
                f"the {dated} holds no trusted list of {territory[:10]}, the issuer's country; {claim}",
                "TRUSTED_LIST_MISSING",
                details,
            )
        return Check(
            "seal_trusted_list",
            "failed",
            f"the certificate's issuer is not a qualified trust service on the EU trusted lists ({dated}, {len(self.lists)} national lists)",
            "NOT_ON_TRUSTED_LIST",
            details,
        )


class SnapshotSource:
    """The snapshot in the configured folder, read again when its manifest changes (a refresh while running)."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self._seen: tuple[float, Snapshot | None] | None = None

    def current(self) -> Snapshot | None:
        if self.folder is None:
            return None
        try:
            stamp = (self.folder / MANIFEST).stat().st_mtime
        except OSError:
            return None
        if self._seen is None or self._seen[0] != stamp:
            self._seen = (stamp, Snapshot.load(self.folder))
        return self._seen[1]
