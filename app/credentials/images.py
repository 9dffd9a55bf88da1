"""A small generated display image for credentials that come without one.

The EDC shapes require at least one image per display language (``DisplayDetail.image`` 1..1,
``IndividualDisplay.displayDetail`` 1..n, model doc §6.6); a wallet shows it as the credential's face.
The picture is a plain card: a frame and header band in a colour derived from the title, so two
offerings of one provider look different. Pure Python (zlib), no imaging library.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import struct
import zlib

WIDTH, HEIGHT = 320, 224
EU_BLUE = (0, 51, 153)
WHITE = (255, 255, 255)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, pixel) -> bytes:
    """An 8-bit RGB PNG (ISO/IEC 15948) whose colour at (x, y) is ``pixel(x, y)``."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type None for every scanline
        for x in range(width):
            rows.extend(pixel(x, y))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + _chunk(b"IEND", b"")


def card_png(seed: str) -> bytes:
    """The default credential card for ``seed`` (the title): deterministic, ~1 KB."""
    digest = hashlib.sha256(seed.encode()).digest()
    accent = (digest[0] // 2 + 64, digest[1] // 2 + 64, digest[2] // 2 + 64)
    band = HEIGHT // 4

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if x < 6 or y < 6 or x >= WIDTH - 6 or y >= HEIGHT - 6:
            return EU_BLUE
        if y < band:
            return accent
        # three "text lines" so the card reads as a certificate at a glance
        for i, length in enumerate((0.7, 0.55, 0.4)):
            top = band + 40 + i * 34
            if top <= y < top + 10 and 30 <= x < 30 + int((WIDTH - 60) * length):
                return (200, 205, 215)
        return WHITE

    return png(WIDTH, HEIGHT, pixel)


@functools.lru_cache(maxsize=512)
def card_png_base64(seed: str) -> str:
    """Cached: the card depends only on the title, and drawing it pixel by pixel costs ~50 ms."""
    return base64.b64encode(card_png(seed)).decode("ascii")
