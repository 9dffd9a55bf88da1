"""HTTP semantics of the live service (issue 13): 413 that closes the connection, WWW-Authenticate on
every 401, a Content-Security-Policy on every response, and a header-read timeout in what ``serve`` runs.

Raw sockets where the behaviour is the connection's (an upload left unread, headers trickling in);
the deadlines only catch hangs.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.live_process import LiveService

HANG = 60
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "wallet_demo" / "templates"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a whole response head came: {data[:200]!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(rest) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return int(status_line.split()[1]), headers, rest


def _closed(sock: socket.socket) -> bool:
    """Whether the peer closed the connection (EOF or reset), waiting at most HANG seconds."""
    sock.settimeout(HANG)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


# -- 413 ------------------------------------------------------------------------------------------------


def test_a_declared_oversized_body_is_413_and_closes_the_connection(live):
    limit = live.settings.max_body_bytes
    with socket.create_connection(("127.0.0.1", _port(live.url)), timeout=HANG) as sock:
        sock.sendall(b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + f"Content-Length: {limit + 1}\r\n\r\n".encode())
        status, headers, body = _read_response(sock)
        assert status == 413, body
        assert headers["content-type"].startswith("application/problem+json") and b'"TOO_LARGE"' in body
        assert headers["connection"].lower() == "close"
        assert _closed(sock)


def test_a_chunked_upload_past_the_limit_is_413_and_the_rest_is_not_read(live):
    limit = live.settings.max_body_bytes
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", _port(live.url)), timeout=HANG) as sock:
        sock.sendall(b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.settimeout(0.5)
        response = b""
        deadline = time.monotonic() + HANG
        # Keep uploading (up to 64 times the limit) until the server answers or stops reading.
        while sent < 64 * limit and time.monotonic() < deadline:
            try:
                sock.sendall(frame)
                sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            except TimeoutError:
                pass  # the server stopped reading: its buffers are full
            try:
                response = sock.recv(65536, socket.MSG_PEEK)
                if response:
                    break
            except (BlockingIOError, TimeoutError):
                pass
            except ConnectionResetError:
                break
        assert sent < 64 * limit, "the server read 64 MB of a body whose limit is 1 MB"
        sock.settimeout(HANG)
        status, headers, body = _read_response(sock)
        assert status == 413 and b'"TOO_LARGE"' in body, body
        assert headers["connection"].lower() == "close"
        assert _closed(sock)
    assert httpx.get(f"{live.url}/health").status_code == 200


# -- 401 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-key", "Basic dXNlcjpwYXNz"])
@pytest.mark.parametrize("method, path", [("POST", "/microcredentials"), ("POST", "/credentials/issue"), ("GET", "/credentials")])
def test_every_401_carries_a_bearer_challenge(live, authorization, method, path):
    headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})
    r = httpx.request(method, live.url + path, headers=headers, content=b"{}" if method == "POST" else None)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer"), r.headers  # RFC 9110 §11.6.1, RFC 6750 §3


# -- Content-Security-Policy ------------------------------------------------------------------------------


def _directives(policy: str) -> dict[str, list[str]]:
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";") if d.strip())}


@pytest.mark.parametrize("path", ["/verify", "/wallet/signin", "/wallet"])
def test_html_pages_send_a_policy_without_inline_scripts(live, path):
    r = httpx.get(live.url + path, follow_redirects=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text[:200]
    policy = _directives(r.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    # The page itself holds nothing the policy would block: no inline script, style or event handler.
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text) and "<style" not in r.text
    assert not re.search(r"\s(style|on[a-z]+)=", r.text)


def test_templates_hold_no_inline_script_or_style():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text) and "<style" not in text, template.name
        assert not re.search(r"\s(style|on[a-z]+)=", text), template.name


@pytest.mark.parametrize("method, path", [("GET", "/health"), ("GET", "/openapi.json"), ("POST", "/credentials/verify"), ("GET", "/no-such-page")])
def test_api_answers_send_a_restrictive_policy(live, method, path):
    r = httpx.request(method, live.url + path, json={} if method == "POST" else None)
    policy = _directives(r.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], r.headers


def test_the_api_documentation_allows_its_own_inline_script_by_hash_only(live):
    r = httpx.get(live.url + "/docs")
    assert r.status_code == 200
    policy = _directives(r.headers["content-security-policy"])
    assert "'unsafe-inline'" not in policy["script-src"] and any(s.startswith("'sha256-") for s in policy["script-src"]), policy
    assert policy["frame-ancestors"] == ["'none'"]


# -- header-read timeout (the real ``serve``) ---------------------------------------------------------------


@pytest.fixture
def served(tmp_path):
    env = {"MICROCRED_HEADER_TIMEOUT_SECONDS": "2", "MICROCRED_BODY_TIMEOUT_SECONDS": "3", "MICROCRED_RATE_LIMIT_ENABLED": "false"}
    with LiveService(tmp_path, env=env) as service:
        yield service


def test_a_client_trickling_its_headers_is_cut_off(served):
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", served.port), timeout=HANG) as sock:
        sock.settimeout(0.5)
        started = time.monotonic()
        answer = b""
        for byte in request:  # one byte every half second: the whole request would take 100 s
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                answer = sock.recv(65536)
                break  # an answer or EOF: cut off
            except TimeoutError:
                pass
            except ConnectionResetError:
                break
            assert time.monotonic() - started < HANG, "the server never cut the trickling client off"
        assert time.monotonic() - started < HANG
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert httpx.get(f"{served.url}/health").status_code == 200  # and it serves others meanwhile


def test_a_client_trickling_its_body_is_cut_off_with_408(served):
    body = b'{"verifiableCredential": {"x": "' + b"a" * 200 + b'"}}'
    head = b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=HANG) as sock:
        sock.sendall(head + b"\r\n\r\n")  # the header section at once: the header timeout is not what cuts it off
        sock.settimeout(0.5)
        started = time.monotonic()
        answer = b""
        for byte in body:  # one byte every half second: the whole body would take two minutes
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                answer = sock.recv(65536)
                break
            except TimeoutError:
                pass
            except ConnectionResetError:
                break
            assert time.monotonic() - started < HANG, "the server never cut the trickling client off"
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"body did not arrive in time" in answer
    assert httpx.get(f"{served.url}/health").status_code == 200  # and it serves others meanwhile


def test_a_connection_that_sends_nothing_is_closed(served):
    with socket.create_connection(("127.0.0.1", served.port), timeout=HANG) as sock:
        assert _closed(sock)


def test_a_normal_keep_alive_client_is_not_cut_off(served):
    with httpx.Client(base_url=served.url) as client:
        for _ in range(3):
            assert client.get("/health").status_code == 200
            time.sleep(1)  # idle within the keep-alive timeout; each request's headers arrive at once
