"""The guarded fetcher against a real server on 127.0.0.1 (security-notes.md §11). Nothing here leaves the host."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time

import pytest

from app.errors import FetchError
from app.net import Fetcher, TTLCache, address_refusal
from app.settings import Settings
from tests.local_server import LocalServer, self_signed_localhost


def _settings(**overrides) -> Settings:
    base = dict(environment="development", fetch_allow_loopback=True, fetch_timeout_seconds=0.6, fetch_connect_timeout_seconds=0.5, fetch_max_bytes=2000)
    return Settings(**{**base, **overrides})


@pytest.fixture(scope="module")
def server():
    with LocalServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def test_fetcher() -> Fetcher:
    return Fetcher(_settings())


@pytest.fixture(scope="module")
def prod_fetcher() -> Fetcher:
    return Fetcher(_settings(environment="production", fetch_allow_loopback=False))


def _refused(fetcher: Fetcher, url: str, code: str = "FETCH_REFUSED") -> FetchError:
    with pytest.raises(FetchError) as exc:
        fetcher.fetch(url)
    assert exc.value.code == code, exc.value.detail
    return exc.value


# ------------------------------------------------------------------ allowance


def test_loopback_allowed_under_the_test_allowance(server, test_fetcher):
    result = test_fetcher.fetch(server.url("/ok"))
    assert result.content == b'{"ok":true}'
    assert result.content_type == "application/json"
    assert result.address == "127.0.0.1"
    path, headers = server.requests[-1]
    assert headers.get("Accept-Encoding") == "identity"


def test_allowance_is_refused_in_production():
    with pytest.raises(FetchError) as exc:
        Fetcher(_settings(environment="production", fetch_allow_loopback=True))
    assert exc.value.code == "FETCH_ALLOWANCE_REFUSED"


def test_production_refuses_the_local_server(server, prod_fetcher):
    before = len(server.requests)
    _refused(prod_fetcher, server.url("/ok"))  # http
    _refused(prod_fetcher, server.url("/ok").replace("http:", "https:"))  # IP literal
    assert len(server.requests) == before


def test_dns_name_resolving_to_loopback_is_refused_at_connect_time(server, prod_fetcher):
    # "localhost" passes the URL rules (a DNS name, https); only the connect-time check can refuse it.
    before = len(server.requests)
    err = _refused(prod_fetcher, f"https://localhost:{server.port}/ok")
    assert "resolves to a loopback address" in err.detail
    assert len(server.requests) == before  # never connected


def test_numeric_host_forms_are_refused(server, prod_fetcher):
    # 2130706433 and 0x7f.1 are 127.0.0.1 to inet_aton; whichever way they parse, they are refused.
    for host in ("2130706433", "0x7f.1", "127.1"):
        _refused(prod_fetcher, f"https://{host}:{server.port}/ok")


# ------------------------------------------------------------------ URL rules


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/list",
        "ftp://example.com/list",
        "file:///etc/passwd",
        "/relative",
        "https://user:pw@example.com/",
        "https://10.0.0.1/list",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://[fd00::1]/",
        "https://8.8.8.8/",  # public, but still an IP literal
        "",
    ],
)
def test_url_rules_in_production(prod_fetcher, url):
    _refused(prod_fetcher, url)


def test_url_rules_under_the_allowance(server, test_fetcher):
    # The allowance covers loopback only: not private ranges, not IPv4-mapped loopback, not plain http elsewhere.
    for url in ("https://10.0.0.1/", "http://example.com/", "http://10.0.0.1/", f"http://[::ffff:127.0.0.1]:{server.port}/ok", "https://[::ffff:127.0.0.1]/"):
        _refused(test_fetcher, url)


@pytest.mark.parametrize(
    "address,allowed",
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.5.4", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 wrapping the metadata address
    ],
)
def test_address_policy(address, allowed):
    assert (address_refusal(ipaddress.ip_address(address)) is None) is allowed


def test_address_policy_allowance_covers_plain_loopback_only():
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert address_refusal(ipaddress.ip_address("::1"), allow_loopback=True) is None
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is not None
    assert address_refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) is not None


# ------------------------------------------------------------------ responses


def test_redirect_is_refused(server, test_fetcher):
    _refused(test_fetcher, server.url("/redirect"), "FETCH_REDIRECT")
    assert server.requests[-1][0] == "/redirect"  # and /ok was never requested after it


@pytest.mark.parametrize("status", [404, 500, 204])
def test_non_200_is_refused(server, test_fetcher, status):
    _refused(test_fetcher, server.url(f"/status/{status}"), "FETCH_HTTP_STATUS")


def test_oversize_declared_is_refused(server, test_fetcher):
    _refused(test_fetcher, server.url("/big"), "FETCH_TOO_LARGE")


def test_oversize_streamed_is_refused(server, test_fetcher):
    err = _refused(test_fetcher, server.url("/big-stream"), "FETCH_TOO_LARGE")
    assert "2000" in err.detail


def test_per_call_cap_only_lowers(server, test_fetcher):
    with pytest.raises(FetchError):
        test_fetcher.fetch(server.url("/ok"), max_bytes=5)
    assert test_fetcher.fetch(server.url("/ok"), max_bytes=10**9).content == b'{"ok":true}'


def test_content_encoding_is_refused(server, test_fetcher):
    _refused(test_fetcher, server.url("/gzip"))


def test_slow_headers_time_out(server, test_fetcher):
    started = time.monotonic()
    _refused(test_fetcher, server.url("/slow"), "FETCH_TIMEOUT")
    assert time.monotonic() - started < 1.5


def test_slow_drip_hits_the_total_deadline(server, test_fetcher):
    # Each byte arrives well within any read timeout; only a total deadline stops this.
    started = time.monotonic()
    _refused(test_fetcher, server.url("/drip"), "FETCH_TIMEOUT")
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_a_fetch_error(test_fetcher):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening
        _refused(test_fetcher, f"http://127.0.0.1:{port}/", "FETCH_FAILED")


def test_async_callers_use_a_worker_thread(server, test_fetcher):
    result = asyncio.run(test_fetcher.fetch_async(server.url("/ok")))
    assert result.content == b'{"ok":true}'


# ------------------------------------------------------------------ TLS: dial the vetted IP, verify the name


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    cert, key = self_signed_localhost(tmp_path_factory.mktemp("tls"))
    with LocalServer(tls=(cert, key)) as srv:
        srv.cert = cert
        yield srv


def test_https_keeps_the_host_name_for_sni_and_verification(tls_server):
    ctx = ssl.create_default_context(cafile=str(tls_server.cert))
    fetcher = Fetcher(_settings(), ssl_context=ctx)
    # The backend resolves "localhost" and dials a vetted loopback IP; the certificate names only
    # "localhost", so this succeeds only if TLS verified the host name rather than the address.
    result = fetcher.fetch(f"https://localhost:{tls_server.port}/ok")
    assert result.content == b'{"ok":true}'
    assert ipaddress.ip_address(result.address).is_loopback
    assert tls_server.requests[-1][1]["Host"] == f"localhost:{tls_server.port}"
    # Same server by IP: the certificate does not name 127.0.0.1, so verification must fail.
    with pytest.raises(FetchError) as exc:
        fetcher.fetch(f"https://127.0.0.1:{tls_server.port}/ok")
    assert exc.value.code == "FETCH_FAILED"


def test_https_without_trusting_the_certificate_fails(tls_server):
    with pytest.raises(FetchError) as exc:
        Fetcher(_settings()).fetch(f"https://localhost:{tls_server.port}/ok")
    assert exc.value.code == "FETCH_FAILED"


# ------------------------------------------------------------------ TTL cache


def test_ttl_cache_age_and_size():
    now = [0.0]
    cache: TTLCache[str] = TTLCache(10, max_entries=2, clock=lambda: now[0])
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # a is now most recently used
    cache.put("c", "C")  # evicts b
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    now[0] = 10.0
    assert cache.get("a") is None and len(cache) == 1


def test_ttl_cache_does_not_cache_failures():
    cache: TTLCache[int] = TTLCache(60)
    calls = []

    def failing():
        calls.append(1)
        raise FetchError("down", code="FETCH_FAILED")

    for _ in range(2):
        with pytest.raises(FetchError):
            cache.get_or_load("k", failing)
    assert len(calls) == 2
    assert cache.get_or_load("k", lambda: 7) == 7
    assert cache.get_or_load("k", lambda: 8) == 7
