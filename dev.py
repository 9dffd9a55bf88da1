#!/usr/bin/env python3
"""The project's two entry points for a fresh machine: `python3 dev.py serve` and `python3 dev.py test`.

Needs only Python 3.11 and the package registries. It creates `.venv/` beside this file, installs the
package with its pinned dependencies (re-installing only when pyproject.toml changes), then runs the
`microcred` command or pytest inside it. Extra arguments are passed through.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
STAMP = VENV / ".microcred-installed"


def _ensure_env() -> None:
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want and PY.exists():
        return
    if not PY.exists():
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing microcred and its pinned dependencies", flush=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "bench", "run"}:
        print(__doc__)
        print("usage: python3 dev.py serve|test|bench|run [args...]")
        return 2
    _ensure_env()
    cmd, rest = argv[0], argv[1:]
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
