"""Token Status List encoding against the draft's own examples (draft-ietf-oauth-status-list §4.1 and the
examples/status_list_encoding*_json files of github.com/oauth-wg/draft-ietf-oauth-status-list at commit
b101e6c83e223281af116cb0b2bfb32ac6fd1438): its bit order (least significant bit first) is not the W3C list's."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import pytest

from app.errors import MicrocredError
from app.keys import Ed25519Signer, P256Signer
from app.keys.b64url import encode as b64u
from app.status import bitstring
from app.status import token_status_list as tsl

# §4.1: 16 one-bit statuses → 0xB9 0xA3 → "eNrbuRgAAhcBXQ" (examples/status_list_encoding_json)
ONE_BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
# examples/status_list_encoding2_json: 12 two-bit statuses → 0xC9 0x44 0xF9
TWO_BIT = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
# examples/status_list_encoding{1,2}_long_json: 2^20 entries with these set
LONG_INDICES = [0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345]
LONG_TWO_BIT = [1, 2, 1, 3, 1, 1, 2, 1, 1, 2, 3]
LONG_1 = (
    "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogEAAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAAA7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAA"
    "ACAZC8L2AEb"
)
LONG_2 = (
    "eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGVIAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEB5WwIAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAA"
    "AAAAAAAAAAAAAAQG12SgAAAAAAAAAAAAAAAAAAAAAAAAAAAOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAwJEuAQAAAAAAAAAAAAAAAAAAAAAAAMB9SwIAAAAAAAAAAAAAAAAAAACoYUoAAAAAAAAAAAAAAEBqH81gAQw"
)
MAX = 16 * 1024 * 1024


def test_one_bit_example_packs_encodes_and_reads_back():
    data = tsl.pack(dict(enumerate(ONE_BIT)), 16)
    assert data == bytes([0xB9, 0xA3])
    assert tsl.encode_lst(data) == "eNrbuRgAAhcBXQ"
    back = tsl.decode_lst("eNrbuRgAAhcBXQ", max_bytes=MAX)
    assert [tsl.get_status(back, i) for i in range(16)] == ONE_BIT


def test_two_bit_example():
    data = tsl.pack(dict(enumerate(TWO_BIT)), 12, bits=2)
    assert data == bytes([0xC9, 0x44, 0xF9])
    assert tsl.encode_lst(data) == "eNo76fITAAPfAgc"
    assert [tsl.get_status(data, i, 2) for i in range(12)] == TWO_BIT


@pytest.mark.parametrize(("bits", "values", "lst"), [(1, [1] * len(LONG_INDICES), LONG_1), (2, LONG_TWO_BIT, LONG_2)])
def test_long_examples_are_reproduced_byte_for_byte(bits, values, lst):
    data = tsl.pack(dict(zip(LONG_INDICES, values, strict=True)), 2**20, bits=bits)
    assert tsl.encode_lst(data) == lst
    back = tsl.decode_lst(lst, max_bytes=MAX)
    assert back == data
    assert [i for i in range(2**20) if tsl.get_status(back, i, bits)] == LONG_INDICES


def test_the_w3c_bitstring_is_translated_with_its_bit_order_reversed():
    w3c = bitstring.new_list(131_072)
    for i, value in enumerate(ONE_BIT):
        if value:
            bitstring.set_bit(w3c, i, True)
    assert bytes(w3c[:2]) != bytes([0xB9, 0xA3])  # the W3C list counts from the most significant bit
    token = tsl.from_bitstring(bytes(w3c))
    assert token[:2] == bytes([0xB9, 0xA3]) and len(token) == len(w3c)
    suspended = tsl.from_bitstring(bytes(w3c), bits=2, value=tsl.SUSPENDED)
    assert [tsl.get_status(suspended, i, 2) for i in range(16)] == [2 * v for v in ONE_BIT]


def test_decoding_is_bounded():
    bomb = b64u(zlib.compress(bytes(2_000_000), 9))
    with pytest.raises(MicrocredError, match="more than"):
        tsl.decode_lst(bomb, max_bytes=1_000_000)
    with pytest.raises(MicrocredError, match="at most"):
        tsl.decode_lst("A" * 3_000_000, max_bytes=1_000_000)
    with pytest.raises(MicrocredError, match="ZLIB"):
        tsl.decode_lst(b64u(b"not zlib"), max_bytes=MAX)
    with pytest.raises(MicrocredError, match="truncated"):
        tsl.decode_lst(b64u(zlib.compress(bytes(100), 9)[:-4]), max_bytes=MAX)
    with pytest.raises(MicrocredError, match="outside"):
        tsl.get_status(bytes(2), 16)


@pytest.mark.parametrize("signer_type", [P256Signer, Ed25519Signer])
def test_a_signed_token_reads_back_and_its_checks_hold(signer_type):
    signer = signer_type.generate()
    did = "did:example:issuer"
    signer.verification_method = f"{did}#key-1"
    method = {"id": signer.verification_method, "type": "JsonWebKey", "controller": did, "publicKeyJwk": signer.public_jwk()}

    def resolve(kid):
        assert kid == method["id"]
        return method, {"id": did}

    now = datetime.now(UTC)
    uri = "https://issuer.example/status-lists/1"
    payload = tsl.token_payload(uri=uri, data=tsl.pack({3: 1}, 16), bits=1, iat=int(now.timestamp()), iss=did, ttl=10)
    token = tsl.sign_token(payload, signer)
    read = tsl.read_token(token, resolve, uri=uri, now=now, iss=did, max_bytes=MAX)
    assert read.status(3) == tsl.INVALID and read.status(2) == tsl.VALID
    with pytest.raises(MicrocredError, match="sub"):
        tsl.read_token(token, resolve, uri=uri + "x", now=now, iss=did, max_bytes=MAX)
    with pytest.raises(MicrocredError, match="issuer"):
        tsl.read_token(token, resolve, uri=uri, now=now, iss="did:example:other", max_bytes=MAX)
    head, body, sig = token.split(".")
    with pytest.raises(MicrocredError, match="signature"):
        tsl.read_token(f"{head}.{body}.{sig[:10]}{'B' if sig[10] == 'A' else 'A'}{sig[11:]}", resolve, uri=uri, now=now, iss=did, max_bytes=MAX)
    assert tsl.reference({"status_list": {"idx": 3, "uri": uri}}) == (3, uri)
    for bad in ({"status_list": {"idx": -1, "uri": uri}}, {"status_list": {"idx": True, "uri": uri}}, {"status_list": {"idx": 1}}, {}):
        with pytest.raises(MicrocredError):
            tsl.reference(bad)
