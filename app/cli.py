"""The ``microcred`` command line (also ``python -m app``).

Subcommands: ``serve`` runs the HTTP service; ``sign`` and ``verify`` apply the proof engine to a
document from a file or standard input; ``migrate`` upgrades the database schema; ``openapi`` exports
(or ``--check``s) the OpenAPI document; ``settings-table`` prints the README's settings table.
``demo issue --email`` issues the EU example to a learner's wallet.
Later subcommands join here; names stay stable.
Exit status: 0 success / verified, 1 not verified, 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _issuance():
    from app.issuance import Issuance
    from app.runtime import get_runtime
    from app.store import open_database

    runtime = get_runtime()
    return Issuance(runtime, open_database(runtime.settings, migrate=True))


def _demo_provider(settings) -> None:
    """Development only: a demo provider on first start, its API key printed and kept in var/ (0600)."""
    import os

    from app.errors import NotFoundError

    service = _issuance()
    key_file = settings.keys_dir.parent / "var" / "demo-api-key.txt"
    try:
        service.providers.by_slug("demo")
        exists = True
    except NotFoundError:
        exists = False
    if not exists:
        provider, secret = service.providers.create(slug="demo", name="Demo University", country="IE", homepage="https://demo.example.edu")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secret + "\n")
        print(f"microcred: created the demo provider {provider.did}", flush=True)
        print(f"microcred: its API key (also in {key_file}): {secret}", flush=True)
    elif key_file.exists():
        print(f"microcred: demo provider's API key is in {key_file}", flush=True)
    _demo_specification(settings, service)
    service.db.dispose()


def _demo_specification(settings, service) -> None:
    """Development only: the demo provider publishes the EU example as a specification when it has none, so the
    catalogue does not start empty (the example record as it is: its per-learner fields are left out)."""
    from pathlib import Path

    from app.issuance import Catalogue

    catalogue = Catalogue(settings, service.db)
    provider = service.providers.by_slug("demo")
    if catalogue.list_own(provider, limit=1, cursor=None)["items"]:
        return
    example = json.loads((Path(__file__).resolve().parent / "credentials" / "example_input.json").read_text())
    view = catalogue.create(provider, example, published=True)
    print(f"microcred: the demo provider published the example specification {view['id']} (/catalogue.html)", flush=True)


def _serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from app.observability import configure_logging, reset_multiproc_dir
    from app.settings import get_settings
    from app.store import upgrade

    # --host/--port go to the environment, so the default base URL (derived from them) is the same in every worker.
    if args.host:
        os.environ["MICROCRED_HOST"] = args.host
    if args.port:
        os.environ["MICROCRED_PORT"] = str(args.port)
    get_settings.cache_clear()
    settings = get_settings()
    if error := settings.base_url_error():
        return _fail(error)
    host = settings.host
    port = settings.port
    workers = args.workers or settings.workers
    configure_logging(settings)
    reset_multiproc_dir(settings)
    upgrade(settings.database_url)  # once, before the workers start
    os.environ["MICROCRED_AUTO_MIGRATE"] = "false"
    if settings.demo_provider and settings.environment != "production":
        _demo_provider(settings)
    if problems := _preflight(settings):
        for problem in problems:
            print(f"microcred: cannot start: {problem}", file=sys.stderr, flush=True)
        return 2
    print(f"microcred: serving on http://{host}:{port} with {workers} worker(s)", flush=True)
    print(f"microcred: wallet: {settings.base_url.rstrip('/')}/wallet", flush=True)
    # uvloop + httptools: the default asyncio loop lost TCP_NODELAY with several workers (performance-baseline.md);
    # httptools with a header-read timeout (app/http_protocol.py).
    # log_config=None keeps our JSON logging; access_log=False: ours replaces uvicorn's, which logs query strings.
    options = dict(
        app="app.main:create_app",
        factory=True,
        loop="uvloop",
        http="app.http_protocol:HeaderTimeoutHttpToolsProtocol",
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    if workers > 1:
        from app import workers as worker_processes

        # One listening socket per worker (SO_REUSEPORT), so connections spread over them: app/workers.py.
        return worker_processes.serve(host, port, workers, options)
    uvicorn.run(host=host, port=port, **options)
    return 0


def _preflight(settings) -> list[str]:
    """What would make every request fail, found before serving (one line each; ``/ready`` asks the same):
    the pinned contexts are all there and match their digests, the trust registry reads, and every provider's
    active key signs what its DID document lets verifiers check."""
    from app.issuance import Issuance
    from app.jsonld import ContextLoader
    from app.runtime import Runtime
    from app.store import open_database
    from app.verification.trust import TrustRegistry

    problems = []
    try:
        ContextLoader(settings.contexts_dir).verify_all()
    except Exception as exc:  # any reason at all is the operator's to fix, in one line
        problems.append(f"contexts ({settings.contexts_dir}): {getattr(exc, 'detail', None) or exc}")
    try:
        TrustRegistry.load(settings.trust_registry_file)
    except Exception as exc:
        problems.append(f"trust registry {settings.trust_registry_file}: {getattr(exc, 'detail', None) or str(exc).splitlines()[0][:300]}")
    issuance = Issuance(Runtime(settings), open_database(settings, migrate=False))
    try:
        problems += issuance.providers.check_keys()
    finally:
        issuance.db.dispose()
    return problems


def _migrate(args: argparse.Namespace) -> int:
    from app.observability import configure_logging
    from app.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    from app.store import upgrade

    upgrade(settings.database_url)
    print("microcred: database migrated to the latest revision", flush=True)
    return 0


def openapi_document() -> dict:
    """The OpenAPI document the code generates (default settings: the document depends on none)."""
    from app.main import create_app

    return create_app().openapi()


def openapi_files(doc: dict) -> dict[str, str]:
    """File name → text: sorted keys so the files are stable and merge-friendly; a final newline."""
    import yaml

    from app.api.contract import render_markdown

    return {
        "openapi.json": json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        "openapi.yaml": yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, default_flow_style=False, width=120),
        "openapi.md": render_markdown(doc),  # the rendered copy the README links
    }


def openapi_export(out_dir, doc: dict | None = None) -> list:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in openapi_files(doc or openapi_document()).items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    return written


def openapi_drift(out_dir, doc: dict | None = None, max_lines: int = 40) -> list[str]:
    """A summary per file that differs from what the code generates (empty: all in step)."""
    import difflib

    report = []
    for name, want in openapi_files(doc or openapi_document()).items():
        path = out_dir / name
        have = path.read_text(encoding="utf-8") if path.exists() else None
        if have == want:
            continue
        if have is None:
            report.append(f"{path}: missing")
            continue
        diff = list(difflib.unified_diff(have.splitlines(), want.splitlines(), f"{path} (committed)", f"{path} (from the code)", lineterm=""))
        added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
        shown = diff[:max_lines] + ([f"… {len(diff) - max_lines} more diff lines"] if len(diff) > max_lines else [])
        report.append(f"{path}: differs (+{added} -{removed} lines)\n" + "\n".join(shown))
    return report


def _openapi(args: argparse.Namespace) -> int:
    from pathlib import Path

    out = Path(args.out)
    if args.check:
        report = openapi_drift(out)
        if report:
            print("\n".join(report), file=sys.stderr)
            print("the OpenAPI document differs from the code: run `microcred openapi` and commit openapi/", file=sys.stderr)
            return 1
        print(f"microcred: {out} matches the code")
        return 0
    for path in openapi_export(out):
        print(f"microcred: wrote {path}")
    return 0


def _settings_table(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app import settings_doc

    if args.update:
        changed = settings_doc.update(Path(args.update))
        print(f"microcred: {args.update} {'updated' if changed else 'already up to date'}")
    else:
        print(settings_doc.settings_table(), end="")
    return 0


def _read_input(path: str | None) -> bytes:
    if path in (None, "-"):
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def _fail(message: str) -> int:
    print(json.dumps({"error": message}), file=sys.stderr)
    return 2


def _sign(args: argparse.Namespace) -> int:
    from app import strict_json
    from app.errors import MicrocredError
    from app.keys import FileKeyStore, signer_from_secret
    from app.proofs import vc_jose
    from app.runtime import get_runtime

    runtime = get_runtime()
    try:
        document = strict_json.loads(_read_input(args.input), max_bytes=runtime.settings.max_body_bytes)
        if args.key:
            signer = signer_from_secret(args.key)
        elif args.key_file:
            signer = signer_from_secret(json.loads(open(args.key_file).read())["secretKeyMultibase"])
        else:
            signer = FileKeyStore(runtime.settings.keys_dir).get_or_create("cli")
        mb = signer.public_multibase()
        signer.verification_method = args.verification_method or f"did:key:{mb}#{mb}"
        if args.suite == "vc+jwt":
            print(vc_jose.secure(document, signer))
            return 0
        options = json.loads(args.options) if args.options else None
        secured = runtime.engine.add_proof(
            document,
            signer,
            suite=args.suite,
            created=args.created if args.created else (False if args.no_created else True),
            proof_purpose=args.proof_purpose,
            challenge=args.challenge,
            domain=args.domain,
            options=options,
        )
    except MicrocredError as exc:
        return _fail(f"{exc.code}: {exc.detail}")
    except (OSError, ValueError, KeyError) as exc:
        return _fail(str(exc))
    print(json.dumps(secured, indent=2, ensure_ascii=False))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from app.runtime import get_runtime
    from app.verification import verify_input

    runtime = get_runtime()
    try:
        raw = _read_input(args.input)
    except OSError as exc:
        return _fail(str(exc))
    _see_own_issuers(runtime)
    report = verify_input(runtime, raw, proof_only=args.proof_only, challenge=args.challenge, domain=args.domain)
    if report.get("unusable"):
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if report["verified"] else 1


def _see_own_issuers(runtime) -> None:
    """The same view of the service's own issuers as the HTTP verifier (``Issuance.attach_own_data``), when its
    database is there; without one the command verifies as any outside verifier would."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.errors import MicrocredError
    from app.issuance import Issuance
    from app.store import open_database

    try:
        issuance = Issuance(runtime, open_database(runtime.settings, migrate=False))
        issuance.providers.list()  # a database with this service's schema, or none
        issuance.attach_own_data()
    except (MicrocredError, OSError, RuntimeError, SQLAlchemyError) as exc:  # no database: verify as an outsider
        print(f"microcred: the service's own issuers are not known here ({str(exc)[:200]})", file=sys.stderr)


def _provider(args: argparse.Namespace) -> int:
    from app.errors import MicrocredError
    from app.settings import get_settings

    if args.action == "create" and (error := get_settings().base_url_error()):
        return _fail(error)  # its did:web would name a host no one can resolve
    service = _issuance()
    try:
        if args.action == "create":
            identifiers = json.loads(args.identifiers) if args.identifiers else None
            provider, secret = service.providers.create(
                slug=args.slug,
                name=args.name,
                country=args.country,
                homepage=args.homepage,
                identifiers=identifiers,
                did_method=args.did_method,
                key_store=args.key_store,
            )
            out = {"slug": provider.slug, "did": provider.did, "api_key": secret}
            print(json.dumps(out) if args.json else f"provider {provider.slug}: {provider.did}\nAPI key (shown once): {secret}")
        elif args.action == "rotate-key":
            kid = service.providers.rotate_key(args.slug)
            print(json.dumps({"slug": args.slug, "verificationMethod": kid}) if args.json else f"new signing key {kid}; retired keys stay in the DID document")
        elif args.action == "api-key":
            secret = service.providers.new_api_key(args.slug)
            print(json.dumps({"slug": args.slug, "api_key": secret}) if args.json else f"new API key (shown once): {secret}")
        elif args.action == "revoke-api-key":
            service.providers.revoke_api_key(args.slug, args.key_id)
            print(json.dumps({"slug": args.slug, "revoked": args.key_id}) if args.json else f"API key {args.key_id} revoked")
        elif args.action == "seal-certificate":
            record = _seal_certificate(service.providers, args)
            until = f"{record.not_after:%Y-%m-%dT%H:%M:%SZ}"
            out = {"slug": args.slug, "keyRef": record.key_ref, "keyType": record.key_type, "certificates": len(record.chain), "notAfter": until}
            print(json.dumps(out) if args.json else f"provider {args.slug} seals EDCs (proof jades) with {record.key_ref}, certificate valid until {until}")
        elif args.action == "list":
            rows = [{"slug": p.slug, "did": p.did, "name": p.legal_name, "country": p.country} for p in service.providers.list()]
            print(json.dumps(rows, indent=None if args.json else 2))
    except MicrocredError as exc:
        return _fail(f"{exc.code}: {exc.detail}")
    finally:
        service.db.dispose()
    return 0


def _seal_certificate(providers, args: argparse.Namespace):
    """``provider seal-certificate``: a PKCS#12 file (the key kept in the key folder, 0600), or a key in the PKCS#11
    token with its PEM chain (ETSI TS 119 182-1 x5c: the sealing certificate first)."""
    import getpass

    from cryptography import x509

    from app.errors import MalformedValueError
    from app.settings import get_settings

    if bool(args.pkcs12) == bool(args.key):
        raise MalformedValueError("seal-certificate takes --pkcs12 FILE, or --key pkcs11:<label> with --chain FILE.pem")
    if args.pkcs12:
        password = get_settings().pkcs12_password
        if password is None:
            password = getpass.getpass("PKCS#12 password (empty for none): ")
        return providers.import_pkcs12(args.slug, Path(args.pkcs12).read_bytes(), password.encode() if password else None)
    if not args.key.startswith("pkcs11:") or not args.chain:
        raise MalformedValueError("--key is a key in the PKCS#11 token, pkcs11:<label>, and needs --chain FILE.pem")
    try:
        chain = x509.load_pem_x509_certificates(Path(args.chain).read_bytes())
    except ValueError:
        raise MalformedValueError(f"{args.chain} holds no PEM certificates") from None
    return providers.set_seal_key(args.slug, args.key, chain)


def _demo(args: argparse.Namespace) -> int:
    """``demo issue --email``: the demo provider issues the EU example to that e-mail, and prints the claim link."""
    import copy
    from pathlib import Path

    from app.errors import MicrocredError
    from app.holder import Wallet, normalize_email
    from app.settings import get_settings

    settings = get_settings()
    if settings.environment == "production":
        return _fail("the demo commands are for development only")
    try:
        email = normalize_email(args.email)
        path = Path(args.input) if args.input else Path(__file__).resolve().parent / "credentials" / "example_input.json"
        record = copy.deepcopy(json.loads(path.read_text()))
    except (MicrocredError, OSError, ValueError) as exc:
        return _fail(getattr(exc, "detail", str(exc)))
    record.setdefault("learner", {}).pop("id", None)  # the e-mail is the learner reference the wallet matches
    record["learner"]["email"] = email
    _demo_provider(settings)
    service = _issuance()
    try:
        provider = service.providers.by_slug("demo")
        issued = service.issue(provider, {"format": args.format, "proof": args.proof, "microcredential": record})
        offer = Wallet(service.runtime, service.db).create_offer(provider, issued.id)
    except MicrocredError as exc:
        return _fail(f"{exc.code}: {exc.detail}")
    finally:
        service.db.dispose()
    if args.json:
        print(
            json.dumps(
                {
                    "credentialId": issued.id,
                    "offerUrl": offer["offerUrl"],
                    "expiresAt": offer["expiresAt"],
                    "wallet": f"{service.runtime.settings.base_url.rstrip('/')}/wallet",
                }
            )
        )
    else:
        print(f"issued {issued.id} to {email} ({args.format}, {args.proof})")
        print(f"claim link (single use, until {offer['expiresAt']}): {offer['offerUrl']}")
        print(f"or sign in as {email} at {settings.base_url.rstrip('/')}/wallet: the offer waits there")
    return 0


def _status_lists(args: argparse.Namespace) -> int:
    """After restoring a database backup: seal every open status list so no index can be handed out twice."""
    from app.runtime import get_runtime
    from app.store import open_database, status

    db = open_database(get_runtime().settings, migrate=True)
    try:
        with db.transaction() as session:
            sealed = status.seal_status_lists(session)
    finally:
        db.dispose()
    print(json.dumps({"sealed": sealed}) if args.json else f"sealed {sealed} status list(s); new credentials go to fresh lists")
    return 0


def _trust(args: argparse.Namespace) -> int:
    """``trust import-deqar`` / ``refresh-lotl`` / ``import-eqar``."""
    if args.action == "refresh-lotl":
        return _refresh_lotl(args)
    if args.action == "import-eqar":
        return _import_eqar(args)
    missing = [f"--{n}" for n in ("did", "institution", "reports", "registry") if not getattr(args, n)]
    if missing:
        return _fail(f"import-deqar needs {', '.join(missing)}")
    return _import_deqar(args)


def _refresh_lotl(args: argparse.Namespace) -> int:
    """``trust refresh-lotl --from DIR``: the EU List of Trusted Lists and national lists the operator downloaded into
    DIR, their signatures checked (the LOTL's with the pinned certificates), kept as the dated snapshot the verifier
    reads (settings.trusted_lists_dir, or ``--to``). Nothing is fetched (app/verification/trusted_lists.py)."""
    from cryptography import x509

    from app.errors import MicrocredError
    from app.settings import get_settings
    from app.verification.trusted_lists import refresh

    settings = get_settings()
    pinned_file = args.pinned or settings.lotl_signing_certificates
    target = Path(args.to) if args.to else settings.trusted_lists_dir
    if not args.source or target is None:
        return _fail("refresh-lotl needs --from DIR (the downloaded lists) and a target (--to, or MICROCRED_TRUSTED_LISTS_DIR)")
    if pinned_file is None:
        return _fail("refresh-lotl needs the pinned LOTL signing certificates: --pinned FILE.pem or MICROCRED_LOTL_SIGNING_CERTIFICATES")
    try:
        pinned = x509.load_pem_x509_certificates(Path(pinned_file).read_bytes())
        manifest = refresh(Path(args.source), target, pinned)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot refresh: {str(exc)[:300]}")
    except MicrocredError as exc:
        return _fail(f"cannot refresh: {exc.code}: {exc.detail}")
    if args.json:
        print(json.dumps(manifest))
    else:
        lists = ", ".join(manifest["lists"]) or "none"
        print(f"EU trusted-list snapshot of {manifest['takenAt']} in {target}: LOTL {manifest['lotl']['sequence']}, national lists {lists}")
    return 0


def _import_deqar(args: argparse.Namespace) -> int:
    """``trust import-deqar``: a registry entry for ``--did`` from DEQAR's institution record and institutional reports
    (files the operator downloaded from the DEQAR web API), written into ``--registry`` and read back as the
    service reads it (app/verification/deqar.py, app/verification/trust.py)."""
    from datetime import UTC, datetime
    from pathlib import Path

    from app.errors import MicrocredError
    from app.verification.deqar import registry_entry

    if not args.did.startswith("did:"):
        return _fail(f"--did {args.did[:80]!r} is not a DID")
    try:
        institution = json.loads(Path(args.institution).read_text(encoding="utf-8"))
        reports = json.loads(Path(args.reports).read_text(encoding="utf-8"))
        entry = registry_entry(institution, reports, today=datetime.now(UTC).date())
        target = Path(args.registry)
        registry = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
        if not isinstance(registry, dict) or not isinstance(registry.setdefault("issuers", {}), dict):
            return _fail(f'{target}: the trust registry is {{"issuers": {{did: entry}}}}')
        registry["issuers"][args.did] = entry
        _write_registry(target, registry)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot import: {getattr(exc, 'detail', None) or str(exc)[:300]}")
    except MicrocredError as exc:
        return _fail(f"cannot import: {exc.detail}")
    print(json.dumps({"did": args.did, "entry": entry}) if args.json else f"{args.did}: {entry['legalName']} written to {args.registry}")
    return 0


def _import_eqar(args: argparse.Namespace) -> int:
    """``trust import-eqar FILE --registry REG``: the EQAR register of agencies (the DEQAR web API's agency list the
    operator downloaded) applied to the registry's QA facts (app/verification/eqar.py), written as import-deqar does."""
    from datetime import UTC, datetime

    from app.errors import MicrocredError
    from app.verification.eqar import agencies, apply

    if not args.file or not args.registry:
        return _fail("import-eqar needs the register FILE and --registry")
    try:
        register = agencies(json.loads(Path(args.file).read_text(encoding="utf-8")))
        target = Path(args.registry)
        registry = json.loads(target.read_text(encoding="utf-8"))
        if not isinstance(registry, dict) or not isinstance(registry.get("issuers"), dict):
            return _fail(f'{target}: the trust registry is {{"issuers": {{did: entry}}}}')
        changes = apply(registry, register, today=datetime.now(UTC).date())
        _write_registry(target, registry)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot import: {getattr(exc, 'detail', None) or str(exc)[:300]}")
    except MicrocredError as exc:
        return _fail(f"cannot import: {exc.detail}")
    if args.json:
        print(json.dumps({"agencies": len(register), "changes": changes}))
    else:
        for c in changes:
            state = f"EQAR-registered until {c['until']}" if c["registered"] else "not EQAR-registered"
            print(f"{c['did']}: QA by {c['agency']} ({state})")
    return 0


def _write_registry(target: Path, registry: dict) -> None:
    """The registry written beside ``target`` and read back as the service reads it, then moved over it: a wrong
    entry never replaces a good file."""
    import os
    import tempfile

    from app.verification.trust import TrustRegistry

    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".registry-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(registry, indent=2, ensure_ascii=False) + "\n")
    try:
        TrustRegistry.load(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _recovery_log(args: argparse.Namespace) -> int:
    """Export the recovery log as JSON lines, or replay an export after restoring a backup (app/store/recovery.py)."""
    from datetime import datetime

    from app.runtime import get_runtime
    from app.store import open_database, recovery

    db = open_database(get_runtime().settings, migrate=True)
    try:
        if args.action == "export":
            since = datetime.fromisoformat(args.since) if args.since else None
            out = open(args.file, "w", encoding="utf-8") if args.file else sys.stdout
            try:
                with db.read() as session:
                    for record in recovery.export(session, after=args.after, since=since):
                        out.write(json.dumps(record, separators=(",", ":")) + "\n")
            finally:
                if args.file:
                    out.close()
            return 0
        if not args.file:
            raise SystemExit("recovery-log replay needs FILE (an export)")
        with open(args.file, encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        with db.transaction() as session:
            counts = recovery.replay(session, records)
    finally:
        db.dispose()
    print(json.dumps(counts) if args.json else ", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from app.credentials import FORMATS
    from app.proofs import PROOF_FORMATS, SUITES, vc_jose

    parser = argparse.ArgumentParser(prog="microcred", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=_serve)

    sign = sub.add_parser("sign", help="add a Data Integrity proof (or secure as vc+jwt) to a document")
    sign.add_argument("input", nargs="?", help="JSON file (default: standard input)")
    sign.add_argument("--suite", default="eddsa-rdfc-2022", choices=[*SUITES, vc_jose.PROOF_FORMAT])
    keyg = sign.add_mutually_exclusive_group()
    keyg.add_argument("--key", help="secret key as a Multikey (z3u2… for Ed25519)")
    keyg.add_argument("--key-file", help="a key file as written in keys/ ({secretKeyMultibase: …})")
    sign.add_argument("--verification-method", help="proof verificationMethod (default: the key's did:key)")
    sign.add_argument("--created", help="proof created (XSD dateTimeStamp; default: now)")
    sign.add_argument("--no-created", action="store_true", help="omit created")
    sign.add_argument("--proof-purpose", default="assertionMethod")
    sign.add_argument("--challenge")
    sign.add_argument("--domain")
    sign.add_argument("--options", help="extra proof options as a JSON object")
    sign.set_defaults(func=_sign)

    verify = sub.add_parser("verify", help="verify a credential or presentation (JSON-LD with proofs, or a vc+jwt)")
    verify.add_argument("input", nargs="?", help="file (default: standard input)")
    verify.add_argument("--proof-only", action="store_true", help="check the proofs alone, not issuer binding, validity or status")
    verify.add_argument("--challenge")
    verify.add_argument("--domain")
    verify.set_defaults(func=_verify)

    lists = sub.add_parser("status-lists", help="status list maintenance (admin)")
    lists.add_argument("action", choices=["seal"], help="seal: after restoring a backup, close every open list")
    lists.add_argument("--json", action="store_true")
    lists.set_defaults(func=_status_lists)

    trust = sub.add_parser("trust", help="the trust registry (admin)")
    trust.add_argument(
        "action",
        choices=["import-deqar", "refresh-lotl", "import-eqar"],
        help="import-deqar: an institution's entry from DEQAR web API files; refresh-lotl: the EU trusted-list snapshot from "
        "downloaded files; import-eqar: the EQAR register of agencies into the registry",
    )
    trust.add_argument("file", nargs="?", help="import-eqar: the EQAR register of agencies (JSON of the EQAR API's agency list)")
    trust.add_argument("--did", help="import-deqar: the institution's DID (a did:web host covers its providers)")
    trust.add_argument("--institution", help="import-deqar: JSON of /webapi/v2/browse/institutions/{id}")
    trust.add_argument("--reports", help="import-deqar: JSON of /webapi/v2/browse/reports/institutional/by-institution/{id}/")
    trust.add_argument("--registry", help="the registry file to update (e.g. the file of MICROCRED_TRUST_REGISTRY_FILE)")
    trust.add_argument("--from", dest="source", help="refresh-lotl: the folder with the downloaded LOTL and national lists (XML)")
    trust.add_argument("--pinned", help="refresh-lotl: PEM of the LOTL signing certificates (default: settings.lotl_signing_certificates)")
    trust.add_argument("--to", help="refresh-lotl: where to keep the snapshot (default: settings.trusted_lists_dir)")
    trust.add_argument("--json", action="store_true")
    trust.set_defaults(func=_trust)
    log = sub.add_parser("recovery-log", help="export the recovery log (JSON lines), or replay an export after a restore (admin)")
    log.add_argument("action", choices=["export", "replay"])
    log.add_argument("file", nargs="?", help="export: write here (default: standard output); replay: the export to apply")
    log.add_argument("--after", type=int, default=0, help="export: only records with a sequence number above this")
    log.add_argument("--since", help="export: only records at or after this time (ISO 8601)")
    log.add_argument("--json", action="store_true")
    log.set_defaults(func=_recovery_log)

    prov = sub.add_parser("provider", help="manage providers (admin)")
    prov.add_argument("action", choices=["create", "rotate-key", "api-key", "revoke-api-key", "list", "seal-certificate"])
    prov.add_argument("--slug")
    prov.add_argument("--name")
    prov.add_argument("--country")
    prov.add_argument("--homepage")
    prov.add_argument("--identifiers", help='JSON list, e.g. [{"scheme":"ErasmusCode","value":"IRL ZED01"}]')
    prov.add_argument("--did-method", default="web", choices=["web", "key"])
    prov.add_argument(
        "--key-store",
        default="file",
        choices=["file", "pkcs11"],
        help="where the signing key is generated: a 0600 file, or inside the PKCS#11 token (settings pkcs11_*)",
    )
    prov.add_argument("--key-id", type=int)
    prov.add_argument(
        "--pkcs12",
        help="seal-certificate: a PKCS#12 file with the sealing key (P-256 or Ed25519) and its certificate chain; "
        "its password from MICROCRED_PKCS12_PASSWORD or asked, never in argv",
    )
    prov.add_argument("--key", help="seal-certificate: a key already in the PKCS#11 token, pkcs11:<label> (with --chain)")
    prov.add_argument("--chain", help="seal-certificate with --key: the PEM certificates, the sealing certificate first")
    prov.add_argument("--json", action="store_true")
    prov.set_defaults(func=_provider)

    migrate = sub.add_parser("migrate", help="upgrade the database (settings.database_url) to the latest schema (Alembic head)")
    migrate.set_defaults(func=_migrate)

    from app.settings import ROOT

    oas = sub.add_parser("openapi", help="write openapi/openapi.json and .yaml from the code, or --check they match it")
    oas.add_argument("--check", action="store_true", help="exit 1 with a diff summary when the files differ from the code")
    oas.add_argument("--out", default=str(ROOT / "openapi"), help="folder of the files (default: openapi/ in the project)")
    oas.set_defaults(func=_openapi)

    table = sub.add_parser("settings-table", help="print the Markdown table of every setting (env var, default, meaning)")
    table.add_argument("--update", metavar="README", help="rewrite the table between the settings-table markers of this file")
    table.set_defaults(func=_settings_table)

    demo = sub.add_parser("demo", help="development demo: issue to a learner's wallet")
    demo.add_argument("action", choices=["issue"])
    demo.add_argument("--email", required=True, help="the demo learner's e-mail (they sign in to the wallet with it)")
    demo.add_argument("--format", default="ob3", choices=FORMATS)
    demo.add_argument("--proof", default="eddsa-rdfc-2022", choices=PROOF_FORMATS)
    demo.add_argument("--input", help="a microcredential record (default: the EU example)")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
