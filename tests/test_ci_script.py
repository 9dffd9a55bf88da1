"""`.ci/run` runs the suite on both databases, always, and fails if either run failed (or collected no tests).

The real script runs in a copy of the repository's layout where `dev.py` is a stand-in that records each run
and exits with the status the test chose per database, and `apt-get` and `npm` are stand-ins that record their
arguments: what is checked is the script's control flow, not the suite.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

_FAKE_DEV = """\
import os, sys
db = "postgresql" if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") else "sqlite"
with open(os.environ["CI_FAKE_LOG"], "a") as fh:
    fh.write(f"{db} {' '.join(sys.argv[1:])} CI={os.environ.get('CI')}\\n")
sys.exit(int(os.environ[f"CI_FAKE_{db.upper()}"]))
"""


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run(tmp_path: Path, sqlite: int, postgresql: int, have: tuple[str, ...] = ("chromium", "softhsm2-util", "pdftoppm"), interop: bool = False):
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (repo / "dev.py").write_text(_FAKE_DEV)
    if interop:
        (repo / "tests" / "interop").mkdir(parents=True)
        (repo / "tests" / "interop" / "package.json").write_text("{}")
    # PATH holds only what the script may use, so "is chromium installed" is the test's choice.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(os.path.realpath(sys.executable), bin_dir / "python3")  # the interpreter itself, not a version manager's shim
    for tool in ("dirname", "env", "bash"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    log = tmp_path / "calls.log"
    for tool in have:
        _tool(bin_dir, tool, "exit 0\n")
    _tool(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}\n')
    _tool(bin_dir, "npm", f'echo "npm $*" >> {log}\n')
    env = {"PATH": str(bin_dir), "CI_FAKE_LOG": str(log), "CI_FAKE_SQLITE": str(sqlite), "CI_FAKE_POSTGRESQL": str(postgresql)}
    done = subprocess.run([shutil.which("bash"), str(repo / ".ci" / "run"), "tests/x"], env=env, capture_output=True, text=True, timeout=60)
    return done, (log.read_text().splitlines() if log.exists() else [])


@pytest.mark.parametrize(
    ("sqlite", "postgresql", "ok"),
    [(0, 0, True), (1, 0, False), (0, 1, False), (1, 1, False), (5, 0, False), (0, 5, False)],
)
def test_both_databases_run_and_either_failure_fails(tmp_path, sqlite, postgresql, ok):
    done, calls = _run(tmp_path, sqlite, postgresql)
    # Both runs happened, in order, with the arguments and CI=true, whatever the first one returned.
    assert calls == ["sqlite test tests/x CI=true", "postgresql test tests/x CI=true"], done.stdout + done.stderr
    assert (done.returncode == 0) is ok, done.stdout + done.stderr
    summary = done.stdout.split("== summary", 1)[1]
    for name, status in (("SQLite", sqlite), ("PostgreSQL", postgresql)):
        line = next(line for line in summary.splitlines() if line.startswith(f"{name}:"))
        assert ("passed" in line) is (status == 0), line
        if status == 5:
            assert "no tests were collected" in line


def test_what_pip_cannot_install_is_installed_with_apt(tmp_path):
    done, calls = _run(tmp_path, 0, 0, have=())
    apt = [c for c in calls if c.startswith("apt-get install")]
    assert len(apt) == 1 and {"chromium", "softhsm2", "poppler-utils"} <= set(apt[0].split()), calls
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_interop_harness_is_installed_when_present(tmp_path):
    done, calls = _run(tmp_path, 0, 0, interop=True)
    npm = [i for i, c in enumerate(calls) if c.startswith("npm ci --prefix tests/interop")]  # with its flags (--ignore-scripts …)
    assert len(npm) == 1, calls
    assert npm[0] < calls.index("sqlite test tests/x CI=true")
    done, calls = _run(tmp_path / "again", 0, 0, interop=False)
    assert not [c for c in calls if c.startswith("npm")]
