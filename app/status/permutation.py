"""A keyed permutation of a status list's index space: the n-th allocation of a list gets index
``permute_index(key, size, n)``.

Bitstring Status List v1.0 §6.1 (privacy, group privacy): an index must not reveal issuance order or
volume, so indices are not handed out in order; and security-notes §15: an index is never reused, which
a permutation of distinct counter values gives by construction.
"""

from __future__ import annotations

import hmac

from app.errors import RangeError

FEISTEL_ROUNDS = 8

__all__ = ["FEISTEL_ROUNDS", "permute_index"]


def permute_index(key: bytes, size: int, seq: int) -> int:
    """The ``seq``-th index of a list: a keyed permutation of ``[0, size)``.

    A balanced Feistel network over ``2·h`` bits (``2^(2h) ≥ size``) is a bijection of that domain
    whatever its round function; cycle-walking (re-applying it until the value falls below ``size``)
    restricts it to a bijection of ``[0, size)``. Expected walks < 4, since ``2^(2h) < 4·size``.
    """
    if not 0 <= seq < size:
        raise RangeError(f"sequence number {seq} outside [0, {size})")
    half = max(1, ((size - 1).bit_length() + 1) // 2)
    mask = (1 << half) - 1
    x = seq
    while True:
        left, right = x >> half, x & mask
        for rnd in range(FEISTEL_ROUNDS):
            digest = hmac.digest(key, bytes([rnd]) + right.to_bytes(8, "big"), "sha256")  # one-shot HMAC, same value
            left, right = right, left ^ (int.from_bytes(digest[:8], "big") & mask)
        x = (left << half) | right
        if x < size:
            return x
