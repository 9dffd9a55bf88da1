"""Bitstring Status List v1.0: bit order, encodedList, the index parser, and the §3.2 reading steps."""

from __future__ import annotations

import copy
import gzip
import time

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from app.errors import MalformedValueError, RangeError
from app.status.bitstring import (
    MIN_ENTRIES,
    decode_list,
    encode_list,
    get_bit,
    get_status,
    new_list,
    parse_index,
    read_status,
    set_bit,
    set_status,
)
from tests.conftest import VECTORS, load_json, require

VEC = VECTORS / "bitstring-status-list"


@pytest.fixture(scope="module")
def vectors_dir():
    require(VEC.is_dir(), f"{VEC} holds the Bitstring Status List vectors")
    return VEC


# ------------------------------------------------------------------ bit order (§2.1)


def test_index_zero_is_the_most_significant_bit_of_the_first_byte():
    data = bytearray(2)
    set_bit(data, 0, True)
    assert data == bytearray(b"\x80\x00")
    set_bit(data, 7, True)
    set_bit(data, 8, True)
    assert data == bytearray(b"\x81\x80")
    assert get_bit(data, 0) and get_bit(data, 7) and get_bit(data, 8)
    assert not get_bit(data, 1) and not get_bit(data, 15)
    set_bit(data, 0, False)
    assert data == bytearray(b"\x01\x80")


def test_bit_index_out_of_range_and_wrong_type():
    data = bytearray(1)
    for bad in (8, -1):
        with pytest.raises(RangeError) as exc:
            get_bit(data, bad)
        assert exc.value.code == "RANGE_ERROR"
    with pytest.raises(MalformedValueError):
        get_bit(data, True)  # a bool is an int in Python, never an index


def test_multi_bit_status_is_read_msb_first():
    data = bytearray(1)
    set_status(data, 1, 0b10, status_size=2)  # entry 1 = bits 2 and 3
    assert data == bytearray(b"\x20")
    assert get_status(data, 1, 2) == 2
    assert get_status(data, 0, 2) == 0
    set_status(data, 3, 0b11, status_size=2)
    assert data == bytearray(b"\x23")
    assert [get_status(data, i, 2) for i in range(4)] == [0, 2, 0, 3]
    with pytest.raises(RangeError):
        get_status(data, 4, 2)
    with pytest.raises(RangeError):
        set_status(data, 0, 4, status_size=2)


@given(st.integers(min_value=1, max_value=64).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n * 8 - 1)))))
@hsettings(max_examples=200, deadline=None)
def test_set_get_property(case):
    length, indices = case
    data = bytearray(length)
    for i in indices:
        set_bit(data, i, True)
    for i in range(length * 8):
        assert get_bit(data, i) == (i in indices)
        # Same rule as the vectors' note: bit i = (byte[i // 8] >> (7 - i % 8)) & 1.
        assert get_bit(data, i) == bool((data[i // 8] >> (7 - i % 8)) & 1)
    assert sum(bin(b).count("1") for b in data) == len(indices)
    assert decode_list(encode_list(data)) == bytes(data)


@given(st.integers(1, 8), st.data())
@hsettings(max_examples=100, deadline=None)
def test_multi_bit_set_get_property(size, data):
    entries = data.draw(st.integers(1, 40))
    values = data.draw(st.lists(st.integers(0, (1 << size) - 1), min_size=entries, max_size=entries))
    buf = bytearray((entries * size + 7) // 8)
    for i, v in enumerate(values):
        set_status(buf, i, v, size)
    assert [get_status(buf, i, size) for i in range(entries)] == values


# ------------------------------------------------------------------ encodedList (§3.3, §3.4)


def test_decoded_vectors(vectors_dir):
    cases = load_json(vectors_dir / "decoded-lists.json")["lists"]
    assert len(cases) == 4
    for case in cases:
        bits = decode_list(case["encoded"])
        assert len(bits) == case["decodedBytes"], case["source"]
        assert len(bits) * 8 == case["lengthBits"]
        # Compare decoded bits, never GZIP bytes (compressors differ).
        set_indices = [i for i in range(len(bits) * 8) if get_bit(bits, i)]
        assert set_indices == case["setIndices_leftToRight_MSBfirst"], case["source"]


def test_decoded_vector_with_a_set_bit_reads_through_read_status(vectors_dir):
    case = load_json(vectors_dir / "decoded-lists.json")["lists"][2]  # 100,000 bits, 50007 set
    cred = _list_credential(case["encoded"])
    # Below the 131,072 herd-privacy minimum, so a conforming verifier refuses it…
    with pytest.raises(RangeError) as exc:
        read_status(cred, _entry("50007"))
    assert exc.value.code == "STATUS_LIST_LENGTH_ERROR"
    # …and with the minimum lowered it reads the one set bit and its neighbours.
    assert read_status(cred, _entry("50007"), min_entries=100_000).status == 1
    assert read_status(cred, _entry("50006"), min_entries=100_000).valid
    assert read_status(cred, _entry("50008"), min_entries=100_000).valid


def test_spec_examples(vectors_dir):
    list_cred = load_json(vectors_dir / "spec-example-3.json")
    assert load_json(vectors_dir / "spec-example-5.json")["credentialSubject"] == list_cred["credentialSubject"]
    entry = load_json(vectors_dir / "spec-example-4.json")["credentialStatus"]
    result = read_status(list_cred, entry)
    assert result.status == 0 and result.valid and result.purpose == "revocation"
    assert len(decode_list(list_cred["credentialSubject"]["encodedList"])) == MIN_ENTRIES // 8

    revocation, suspension = load_json(vectors_dir / "spec-example-1.json")["credentialStatus"]
    assert read_status(list_cred, revocation).valid
    # Example 1's suspension entry names list /status/4 with purpose suspension: list 3 must not answer it.
    with pytest.raises(MalformedValueError) as exc:
        read_status(list_cred, suspension)
    assert exc.value.code == "STATUS_VERIFICATION_ERROR"


def test_round_trip_with_prefix_and_without():
    bits = new_list()
    for i in (0, 1, 94567, MIN_ENTRIES - 1):
        set_bit(bits, i, True)
    encoded = encode_list(bits)
    assert encoded.startswith("uH4sI") and "=" not in encoded
    assert decode_list(encoded) == bytes(bits)
    assert decode_list(encoded[1:]) == bytes(bits)  # Status List 2021 / library vectors: no prefix
    with pytest.raises(MalformedValueError):
        decode_list(encoded[1:], require_prefix=True)
    assert encode_list(bits) == encoded  # deterministic (mtime=0)


def test_new_list_enforces_the_minimum():
    assert len(new_list()) == 16384
    assert len(new_list(MIN_ENTRIES, status_size=2)) == 32768
    with pytest.raises(RangeError) as exc:
        new_list(MIN_ENTRIES - 1)
    assert exc.value.code == "STATUS_LIST_LENGTH_ERROR"


def test_gzip_bomb_is_refused_quickly():
    bomb = gzip.compress(bytes(200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 250_000
    encoded = encode_list_raw(bomb)
    started = time.monotonic()
    with pytest.raises(RangeError) as exc:
        decode_list(encoded, max_bytes=1_000_000)
    assert time.monotonic() - started < 0.5
    assert exc.value.code == "STATUS_LIST_LENGTH_ERROR"
    assert "1000000" in exc.value.detail
    # Exactly at the cap is fine; one byte over is not.
    exact = encode_list(bytes(4096))
    assert len(decode_list(exact, max_bytes=4096)) == 4096
    with pytest.raises(RangeError):
        decode_list(exact, max_bytes=4095)


def encode_list_raw(compressed: bytes) -> str:
    import base64

    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "u",
        "u!!!!",
        "uH4sI AAAA",
        "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA==",  # padding
        "uH4sIAAAAAAAAA+3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # base64 '+', not base64url
        "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAA",  # truncated GZIP
        "uaGVsbG8gd29ybGQ",  # base64url of "hello world": not GZIP
    ],
)
def test_malformed_encoded_list(bad):
    with pytest.raises(MalformedValueError):
        decode_list(bad)


def test_corrupted_crc_is_refused():
    import base64

    damaged = bytearray(gzip.compress(bytes(64), mtime=0))
    damaged[-8] ^= 0xFF  # first byte of the CRC-32 trailer (RFC 1952 §2.2)
    with pytest.raises(MalformedValueError):
        decode_list("u" + base64.urlsafe_b64encode(bytes(damaged)).rstrip(b"=").decode())


def test_trailing_data_after_gzip_is_refused():
    import base64

    doubled = gzip.compress(bytes(8), mtime=0) * 2
    with pytest.raises(MalformedValueError):
        decode_list("u" + base64.urlsafe_b64encode(doubled).rstrip(b"=").decode())


# ------------------------------------------------------------------ statusListIndex (security-notes §7)


@pytest.mark.parametrize("good,value", [("0", 0), ("94567", 94567), ("007", 7), (0, 0), (131071, 131071)])
def test_parse_index_accepts_base10(good, value):
    assert parse_index(good) == value


@pytest.mark.parametrize("bad", ["-1", "٣", " 5 ", "5 ", "5_000", "+5", "", "5\n", "0x10", "1e3", "5.0", True, False, -1, 5.0, None, ["5"], "１"])
def test_parse_index_refuses(bad):
    with pytest.raises(MalformedValueError):
        parse_index(bad)


def test_parse_index_refuses_absurdly_long():
    with pytest.raises(RangeError):
        parse_index("9" * 5000)


# ------------------------------------------------------------------ §3.2 reading


def _list_credential(encoded: str, purpose="revocation", url="https://example.com/credentials/status/3") -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:example:12345",
        "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose, "encodedList": encoded},
    }


def _entry(index, purpose="revocation", url="https://example.com/credentials/status/3", **extra) -> dict:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": index,
        "statusListCredential": url,
        **extra,
    }


@pytest.fixture(scope="module")
def revoked_list():
    bits = new_list()
    set_bit(bits, 94567, True)
    set_bit(bits, MIN_ENTRIES - 1, True)
    return encode_list(bits)


def test_read_status_revoked_and_not(revoked_list):
    cred = _list_credential(revoked_list)
    assert read_status(cred, _entry("94567")).status == 1
    assert not read_status(cred, _entry("94567")).valid
    assert read_status(cred, _entry("94566")).valid
    assert read_status(cred, _entry("94568")).valid
    assert read_status(cred, _entry(str(MIN_ENTRIES - 1))).status == 1
    assert read_status(cred, _entry("0")).valid


def test_read_status_index_errors(revoked_list):
    cred = _list_credential(revoked_list)
    with pytest.raises(RangeError) as exc:
        read_status(cred, _entry(str(MIN_ENTRIES)))
    assert exc.value.code == "RANGE_ERROR"
    # "-1" must never wrap round to the last (set) bit.
    with pytest.raises(MalformedValueError):
        read_status(cred, _entry("-1"))


def test_read_status_purpose_array_and_mismatch(revoked_list):
    cred = _list_credential(revoked_list, purpose=["revocation", "suspension"])
    assert read_status(cred, _entry("94567", purpose="suspension")).status == 1
    with pytest.raises(MalformedValueError) as exc:
        read_status(cred, _entry("94567", purpose="message"))
    assert exc.value.code == "STATUS_VERIFICATION_ERROR"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c, e: c.update(type=["VerifiableCredential"]),
        lambda c, e: c["credentialSubject"].update(type="StatusList2021"),
        lambda c, e: c.update(id="https://evil.example/list"),
        lambda c, e: e.update(type="StatusList2021Entry"),
        lambda c, e: e.update(type="SomethingElse"),
        lambda c, e: c["credentialSubject"].update(statusPurpose=[]),
        lambda c, e: e.pop("statusPurpose"),
        lambda c, e: e.update(statusSize=2),  # without statusMessage
        lambda c, e: e.update(statusSize=0),
    ],
)
def test_read_status_refuses_wrong_shapes(revoked_list, mutate):
    cred, entry = _list_credential(revoked_list), _entry("5")
    mutate(cred, entry)
    with pytest.raises(MalformedValueError) as exc:
        read_status(cred, entry)
    assert exc.value.code == "STATUS_VERIFICATION_ERROR"


def test_read_status_multi_bit_with_messages():
    bits = new_list(status_size=2)
    set_status(bits, 10, 3, 2)
    set_status(bits, 11, 1, 2)
    cred = _list_credential(encode_list(bits), purpose="message")
    messages = [{"status": f"0x{i}", "message": m} for i, m in enumerate(["valid", "pending", "expired", "revoked"])]
    entry = _entry("10", purpose="message", statusSize=2, statusMessage=messages)
    result = read_status(cred, entry)
    assert (result.status, result.valid, result.message) == (3, False, "revoked")
    assert read_status(cred, {**entry, "statusListIndex": "11"}).message == "pending"
    assert read_status(cred, {**entry, "statusListIndex": "12"}).message == "valid"
    with pytest.raises(MalformedValueError):
        read_status(cred, {**entry, "statusMessage": messages[:3]})
    # 131,072 two-bit entries fill 32 KB; a 16 KB list read with statusSize 2 is too short.
    short = _list_credential(encode_list(new_list()), purpose="message")
    with pytest.raises(RangeError) as exc:
        read_status(short, entry)
    assert exc.value.code == "STATUS_LIST_LENGTH_ERROR"


def test_read_status_list_2021(revoked_list):
    cred = _list_credential(revoked_list[1:])  # VC 1.1 lists have no multibase prefix
    cred["type"] = ["VerifiableCredential", "StatusList2021Credential"]
    cred["credentialSubject"]["type"] = "StatusList2021"
    entry = _entry("94567", type="StatusList2021Entry")
    assert read_status(cred, entry).status == 1
    assert read_status(cred, {**entry, "statusListIndex": "3"}).valid
    bad = copy.deepcopy(cred)
    bad["type"] = ["VerifiableCredential", "BitstringStatusListCredential"]
    with pytest.raises(MalformedValueError):
        read_status(bad, entry)
