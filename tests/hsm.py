"""A real SoftHSM2 token for the PKCS#11 tests, made in a temporary folder (its own ``SOFTHSM2_CONF``).

One token per test session: a PKCS#11 module reads its configuration once, at ``C_Initialize``, so every
test of a run shares the token (key labels are unique per provider). Under CI a missing SoftHSM2 or
python-pkcs11 fails the tests (``.ci/run`` installs both); elsewhere they skip.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import require

MODULE = Path(os.environ.get("SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so"))
LABEL = "microcred-test"
PIN = "1234"
SO_PIN = "12345678"


@dataclass
class SoftHsm:
    conf: Path
    module: Path = MODULE
    label: str = LABEL
    pin: str = PIN

    def env(self, **overrides: str) -> dict[str, str]:
        """The service's environment for this token (``MICROCRED_PKCS11_*`` and ``SOFTHSM2_CONF``)."""
        return {
            "SOFTHSM2_CONF": str(self.conf),
            "MICROCRED_PKCS11_MODULE": str(self.module),
            "MICROCRED_PKCS11_TOKEN_LABEL": self.label,
            "MICROCRED_PKCS11_PIN": self.pin,
            **overrides,
        }

    def settings(self) -> dict:
        return {"pkcs11_module": self.module, "pkcs11_token_label": self.label, "pkcs11_pin": self.pin}


def make_token(folder: Path) -> SoftHsm:
    require(shutil.which("softhsm2-util") is not None, "softhsm2-util (apt-get install softhsm2) is needed")
    require(MODULE.is_file(), f"the SoftHSM2 module {MODULE} is needed (or set SOFTHSM2_MODULE)")
    require(importlib.util.find_spec("pkcs11") is not None, "python-pkcs11 (pip install -e .[test]) is needed")
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    argv = ["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--pin", PIN, "--so-pin", SO_PIN]
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)
    os.environ["SOFTHSM2_CONF"] = str(conf)  # for the module loaded in this process (read at C_Initialize)
    return SoftHsm(conf)
