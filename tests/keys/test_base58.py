"""base58btc (app.keys.multikey): the service's own encoder and decoder give the base58 package's bytes exactly.

Every eddsa proofValue is written by ``b58encode`` and read back by ``b58decode``; a difference would change a proof,
so the two are held to the package (the reference they replaced for speed) on generated inputs and on edge cases.
"""

from __future__ import annotations

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import CryptoError
from app.keys.multikey import b58decode, b58encode


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80), st.integers(0, 4))
def test_encoding_is_the_base58_packages(data, zeros):
    raw = b"\0" * zeros + data
    text = b58encode(raw)
    assert text == base58.b58encode(raw).decode()
    if text:
        assert b58decode(text, max_bytes=100) == raw == base58.b58decode(text)


@pytest.mark.parametrize("raw", [b"", b"\0", b"\0\0", b"\x01", b"\xff" * 64, b"\0" + b"\xff" * 63])
def test_edge_cases(raw):
    assert b58encode(raw) == base58.b58encode(raw).decode()


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "z+", "é"])
def test_characters_outside_the_alphabet_are_refused(text):
    with pytest.raises(CryptoError):
        b58decode(text)
