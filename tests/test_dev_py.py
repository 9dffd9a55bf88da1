"""`dev.py`: the first start shows progress and installs only what serving needs; switching commands does not
reinstall needlessly (one stamp per installed set of extras, keyed by pyproject.toml's digest).

The slow test runs the real `dev.py run --help` on a copy of the repository with a fresh .venv (pip and the
package registries for real), so it takes as long as a first start does.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import venv

import pytest

from tests.conftest import ROOT


def _dev():
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_command_needs_its_own_set_and_serving_does_not_need_the_test_extras():
    dev = _dev()
    assert dev.EXTRAS["serve"] == dev.EXTRAS["run"] == dev.EXTRAS["bench"] == ()
    assert dev.EXTRAS["test"] == ("test",)


def test_stamps_per_set_cover_what_is_installed(tmp_path):
    dev = _dev()
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)  # an interpreter is all `needs_install` looks for besides stamps
    digest = "d1"
    assert dev.needs_install((), env, digest) and dev.needs_install(("test",), env, digest)
    dev.stamp_path((), env).write_text(digest)  # after `serve`
    assert not dev.needs_install((), env, digest)
    assert dev.needs_install(("test",), env, digest)  # `test` then adds its extras
    dev.stamp_path(("test",), env).write_text(digest)  # after `test`
    assert not dev.needs_install((), env, digest) and not dev.needs_install(("test",), env, digest)
    # pyproject.toml changed: every set is stale.
    assert dev.needs_install((), env, "d2") and dev.needs_install(("test",), env, "d2")
    # Only the test set installed (or the single stamp older dev.py wrote, which meant [test]): serving is covered.
    for stamp in env.glob(".microcred-installed-*"):
        stamp.unlink()
    (env / ".microcred-installed").write_text(digest)
    assert not dev.needs_install((), env, digest) and not dev.needs_install(("test",), env, digest)


def test_pip_is_not_quiet():
    source = (ROOT / "dev.py").read_text()
    assert '"-q"' not in source and "'-q'" not in source


@pytest.mark.slow
def test_a_first_start_shows_progress_and_installs_no_test_extras(tmp_path):
    repo = tmp_path / "repo"
    # What a clone holds that the install reads (the package, its data, the wheel metadata).
    repo.mkdir()
    for name in ("dev.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, repo / name)
    for name in ("app", "wallet_demo", "contexts", "trust"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    python3 = sys.executable  # venv.EnvBuilder builds on the base interpreter, not on this test environment
    first = subprocess.run([python3, "dev.py", "run", "--help"], cwd=repo, capture_output=True, text=True, timeout=1800)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    out = first.stdout + first.stderr
    assert "dev.py: [1/2] creating .venv" in out and "dev.py: [2/2] installing" in out
    assert "Successfully installed" in out  # pip's own progress, not silenced
    assert "usage: microcred" in out
    py = repo / ".venv" / "bin" / "python"
    probe = "import importlib.util as u; print([m for m in ('pytest', 'hypothesis', 'playwright', 'fastapi') if u.find_spec(m)])"
    has = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert has == "['fastapi']", has  # serving's dependencies only
    again = subprocess.run([python3, "dev.py", "run", "--help"], cwd=repo, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "dev.py:" not in again.stdout + again.stderr  # nothing installed the second time
