"""What the container image runs, without Docker: the wheel built from what the Dockerfile copies, installed in a
fresh virtual environment outside the checkout, started by `docker/entrypoint.sh` with the Dockerfile's
environment, on SQLite and on PostgreSQL.

The entry point test (test_entrypoint.py) runs the checkout, so it could not see that the image lacked
`wallet_demo/` (imported by app/main.py) or `trust/`. Here the source tree is rebuilt from the Dockerfile's own
COPY lines, the wheel is built from it, and an audit hook in the fresh environment records every file the
service opens under the checkout (its dependencies, in the checkout's .venv, excepted): there must be none.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, require
from tests.live_process import START_TIMEOUT, free_port, log_tail, wait_until_up

pytestmark = [pytest.mark.slow]

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
BASE_URL = "https://credentials.example.edu"

# Runs in every process of the fresh environment (a .pth line): any file opened under the checkout is logged.
_AUDIT = """
import os, sys
_root = {root!r}
_allowed = {allowed!r}
_log = {log!r}
def _hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if (path == _root or path.startswith(_root + os.sep)) and not any(path.startswith(a) for a in _allowed):
            with open(_log, "a") as fh:
                fh.write(path + "\\n")
sys.addaudithook(_hook)
"""


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in _dockerfile():
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _build_context(dest: Path) -> None:
    """The files the image's `pip install .` sees: the COPY lines before it, relative to WORKDIR /app."""
    for word, rest in _dockerfile():
        if word == "RUN" and "pip install" in rest:
            return
        if word == "COPY":  # `COPY a b ./` copies into the folder; `COPY app ./app` copies app as ./app
            *sources, target = shlex.split(rest)
            for source in sources:
                src = ROOT / source
                into = dest / target / src.name if target.endswith("/") else dest / target
                if src.is_dir():
                    shutil.copytree(src, into, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                else:
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(src, into)
    raise AssertionError("the Dockerfile has no `RUN pip install`")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv folder, wheel file, audit log) of microcred installed from its wheel outside the checkout."""
    work = tmp_path_factory.mktemp("image")
    context = work / "context"
    context.mkdir()
    _build_context(context)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(work / "dist"), str(context)], capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (work / "dist").glob("microcred-*.whl")
    venv_dir = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv_dir)], check=True, timeout=120)
    python = venv_dir / "bin" / "python"
    site = Path(
        subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True, check=True).stdout.strip()
    )
    # The dependencies are those already installed for the tests (no download): their folder is put on the path
    # by a .pth line, which does not run that folder's own .pth files (so not the checkout's editable finder).
    deps = sysconfig.get_path("purelib")
    platdeps = sysconfig.get_path("platlib")
    (site / "zz_microcred_test_deps.pth").write_text("\n".join(dict.fromkeys([deps, platdeps])) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    audit_log = work / "opened-in-checkout.log"
    allowed = sorted({str(Path(p).resolve()) for p in (deps, platdeps, sys.prefix)})
    (site / "_microcred_audit.py").write_text(_AUDIT.format(root=str(ROOT.resolve()), allowed=allowed, log=str(audit_log)))
    (site / "_microcred_audit.pth").write_text("import _microcred_audit\n")
    # The hook itself is checked: a read of a checkout file is logged.
    subprocess.run([str(python), "-c", f"open({str(ROOT / 'pyproject.toml')!r}).read()"], check=True, timeout=60)
    assert audit_log.read_text().split() == [str((ROOT / "pyproject.toml").resolve())]
    audit_log.unlink()
    return venv_dir, wheel, audit_log


def test_the_wheel_carries_what_the_service_reads(installed):
    _, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "microcred-0.1.0.data/data/share/microcred/"
    expected = [
        "wallet_demo/__init__.py",
        "wallet_demo/templates/wallet.html",
        "wallet_demo/templates/verify.html",
        "wallet_demo/static/microcred.css",
        "app/store/migrations/env.py",
        "app/store/migrations/script.py.mako",
        "app/credentials/example_input.json",
        data + "trust/registry.json",
        data + "contexts/manifest.json",
        data + "contexts/shacl/EDC-generic-full.ttl",
    ]
    expected += [f"app/store/migrations/versions/{p.name}" for p in (ROOT / "app" / "store" / "migrations" / "versions").glob("*.py")]
    expected += [data + "contexts/" + p.relative_to(ROOT / "contexts").as_posix() for p in (ROOT / "contexts").rglob("*") if p.is_file()]
    # Every file of the pages but the translators' tools (babel.cfg, the messages.pot template), which the service
    # never reads: it reads the .po catalogues.
    translators = {"wallet_demo/locales/babel.cfg", "wallet_demo/locales/messages.pot"}
    expected += [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "wallet_demo").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.relative_to(ROOT).as_posix() not in translators
    ]
    missing = sorted(set(expected) - names)
    assert missing == [], f"not in the wheel: {missing}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'microcred.db'}"
        return
    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL at {ADMIN_URL} is needed for the image test: {exc}")
    name = f"microcred_img_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_the_installed_entrypoint_serves_health_ready_issuance_and_the_wallet(installed, database, tmp_path):
    venv_dir, _, audit_log = installed
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROCRED_", "PYTHON"))}
    env.update(_image_env())  # as the image sets it: production, no demo provider, ...
    # What the operator gives `docker run`, and the image's folders moved to this test's temporary one.
    env.update(
        {
            "DATABASE_URL": database,
            "MICROCRED_BASE_URL": BASE_URL,
            "PORT": str(port),
            "WORKERS": "2",
            "MICROCRED_KEYS_DIR": str(tmp_path / "state" / "keys"),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            "PATH": f"{venv_dir / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        }
    )
    assert env["MICROCRED_ENVIRONMENT"] == "production"
    leftover = {k: v for k, v in env.items() if k.startswith("MICROCRED_") and v.startswith("/app")}
    assert leftover == {}, f"the image points settings into /app, where the installed package is not: {leftover}"
    (tmp_path / "state" / "keys").mkdir(parents=True)
    (tmp_path / "state" / "keys").chmod(0o700)
    run_dir = tmp_path / "run"  # the container's WORKDIR holds no source either
    run_dir.mkdir()
    entrypoint = run_dir / "entrypoint.sh"
    shutil.copy(ROOT / "docker" / "entrypoint.sh", entrypoint)
    log = tmp_path / "service.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(["bash", str(entrypoint)], cwd=run_dir, env=env, stdout=stderr, stderr=subprocess.STDOUT)
        try:
            try:
                wait_until_up(url, process, timeout=START_TIMEOUT)
                wait_until_up(url, process, timeout=START_TIMEOUT, path="/ready")
            except RuntimeError as exc:
                pytest.fail(f"{exc}\n{log_tail(log)}")
            probe = "import app, wallet_demo; print(app.__file__); print(wallet_demo.__file__)"
            where = subprocess.run(
                [str(venv_dir / "bin" / "python"), "-c", probe], cwd=run_dir, env=env, capture_output=True, text=True, check=True
            ).stdout.split()
            assert all(Path(p).is_relative_to(venv_dir) for p in where), where
            ready = httpx.get(url + "/ready", timeout=30)
            assert ready.status_code == 200, ready.text
            create = ["microcred", "provider", "create", "--slug", "uniz", "--name", "University of Zed", "--country", "IE", "--json"]
            created = subprocess.run(create, cwd=run_dir, env=env, capture_output=True, text=True, timeout=120)
            assert created.returncode == 0, created.stderr
            made = json.loads(created.stdout.strip().splitlines()[-1])
            assert made["did"].startswith("did:web:credentials.example.edu:")
            example = json.loads((ROOT / "app" / "credentials" / "example_input.json").read_text())
            for fmt, proof in (("ob3", "eddsa-rdfc-2022"), ("edc", "eddsa-jcs-2022")):
                issued = httpx.post(
                    f"{url}/microcredentials",
                    headers={"Authorization": f"Bearer {made['api_key']}"},
                    json={"format": fmt, "proof": proof, "microcredential": example},
                    timeout=120,
                )
                assert issued.status_code == 201, issued.text
                assert "proof" in issued.json() or issued.headers["content-type"].startswith("application/vc"), issued.text[:300]
            wallet = httpx.get(url + "/wallet", timeout=30, follow_redirects=True)  # to the sign-in page, rendered from the templates
            assert wallet.status_code == 200 and "text/html" in wallet.headers["content-type"], wallet.text[:500]
            css = httpx.get(url + "/static/microcred.css", timeout=30)
            assert css.status_code == 200, css.status_code
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, log_tail(log)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    opened = sorted(set(audit_log.read_text().split())) if audit_log.exists() else []
    assert opened == [], f"the installed service read files from the checkout: {opened[:20]}"
