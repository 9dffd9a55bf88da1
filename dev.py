#!/usr/bin/env python3
"""The project's two entry points for a fresh machine: `python3 dev.py serve` and `python3 dev.py test`.

Needs only Python 3.11 and the package registries. It creates `.venv/` beside this file, installs the
package with its pinned dependencies, then runs the `microcred` command or pytest inside it. Extra
arguments are passed through.

`serve`, `run` and `bench` install what serving needs; `test` adds the test extras. Each set installed is
recorded in a stamp (`.venv/.microcred-installed-<set>`, holding the digest of pyproject.toml): the
install runs again only when pyproject.toml changes or the command needs a set not installed yet (after
`test`, `serve` needs nothing more). pip's own output is shown, so a first start is not silent.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
LEGACY_STAMP = VENV / ".microcred-installed"  # before stamps per set: it recorded the [test] install

# The extras each command needs; every set includes the package and its pinned dependencies.
EXTRAS = {"serve": (), "run": (), "bench": (), "test": ("test",)}
# Oldest pip that installs a pyproject-only package in editable mode (PEP 660); the venv's bundled one is newer.
PIP_MIN = (21, 3)


def _digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def stamp_path(extras: tuple[str, ...], venv_dir: Path = VENV) -> Path:
    return venv_dir / f".microcred-installed-{'+'.join(extras) or 'base'}"


def installed_sets(venv_dir: Path = VENV, digest: str | None = None) -> list[tuple[str, ...]]:
    """The extra sets installed for this pyproject.toml (a stamp for another digest is stale)."""
    digest = digest or _digest()
    found = []
    for stamp in venv_dir.glob(".microcred-installed-*"):
        if stamp.read_text().strip() == digest:
            name = stamp.name.removeprefix(".microcred-installed-")
            found.append(() if name == "base" else tuple(name.split("+")))
    legacy = venv_dir / LEGACY_STAMP.name
    if legacy.exists() and legacy.read_text().strip() == digest:
        found.append(("test",))
    return found


def needs_install(extras: tuple[str, ...], venv_dir: Path = VENV, digest: str | None = None) -> bool:
    """True unless an installed set covers ``extras`` (the test set covers serving too)."""
    if not (venv_dir / "bin" / "python").exists():
        return True
    return not any(set(extras) <= set(have) for have in installed_sets(venv_dir, digest))


def _step(number: int, total: int, what: str) -> float:
    print(f"dev.py: [{number}/{total}] {what}", flush=True)
    return time.monotonic()


def _pip_is_recent() -> bool:
    out = subprocess.run([str(PY), "-m", "pip", "--version"], capture_output=True, text=True)
    try:
        version = tuple(int(p) for p in out.stdout.split()[1].split(".")[:2])
    except (IndexError, ValueError):
        return False
    return version >= PIP_MIN


def ensure_env(command: str) -> None:
    extras = EXTRAS[command]
    if not needs_install(extras):
        return
    started = time.monotonic()
    fresh = not PY.exists()
    total = 2 if fresh else 1
    if fresh:
        t = _step(1, total, "creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
        print(f"dev.py: .venv created in {time.monotonic() - t:.0f} s", flush=True)
    if not _pip_is_recent():  # only a very old bundled pip is upgraded: the upgrade itself costs a download
        subprocess.run([str(PY), "-m", "pip", "install", "--upgrade", "pip"], check=True)
    target = f"{ROOT}[{','.join(extras)}]" if extras else str(ROOT)
    what = "microcred, its pinned dependencies" + (f" and the {'+'.join(extras)} extras" if extras else " (what serving needs)")
    _step(total, total, f"installing {what}; pip's output follows")
    subprocess.run([str(PY), "-m", "pip", "install", "--progress-bar", "on", "-e", target], check=True)
    stamp_path(extras).write_text(_digest())
    print(f"dev.py: environment ready in {time.monotonic() - started:.0f} s", flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        print("usage: python3 dev.py serve|test|bench|run [args...]")
        return 2
    cmd, rest = argv[0], argv[1:]
    ensure_env(cmd)
    os.chdir(ROOT)
    if cmd == "serve":
        args = [str(PY), "-m", "app", "serve", *rest]
    elif cmd == "test":
        args = [str(PY), "-m", "pytest", *rest]
    elif cmd == "bench":
        args = [str(PY), "-m", "bench", *rest]
    else:  # run: any microcred subcommand
        args = [str(PY), "-m", "app", *rest]
    return subprocess.call(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
