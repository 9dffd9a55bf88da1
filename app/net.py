"""The one guarded outbound fetcher (security-notes.md §11), and a small TTL cache for what it fetches.

Every fetch the service makes on behalf of a request — did:web documents, status list credentials,
registries — names a URL an outsider chose, so each one is a server-side request forgery risk. The
rules, all enforced here and nowhere else:

* https only (RFC 9110 §4.2.2), no user-info in the URL, and no IP-literal hosts: the documents we
  fetch are named by DNS names (did:web forbids IP addresses outright);
* no redirects: a 3xx is an error, so an allowed host cannot bounce us to a forbidden one;
* no proxy or CA settings from the environment (``trust_env=False``);
* the destination address is checked **at connect time**: a custom httpcore network backend resolves
  the host itself, refuses loopback, private, link-local (cloud metadata 169.254.169.254), unique-local,
  multicast, unspecified, reserved, CGNAT and IPv4-in-IPv6 forms of those, then dials the vetted IP.
  TLS still uses the host name for SNI and certificate verification (httpcore takes the server name
  from the URL, not from the address dialled), and the Host header is unchanged. Because the address
  dialled is the address checked, DNS rebinding between "check" and "connect" is impossible;
* a byte cap, streamed (reading stops one chunk past it), and time caps: connect, and a total
  deadline enforced on every socket read and write, so a slow drip cannot hold a worker;
* no content-encoding (``Accept-Encoding: identity``; an encoded answer is refused), so a compressed
  response cannot expand past the byte cap inside the HTTP layer.

A test-only allowance (``fetch_allow_loopback``) lets tests serve documents from 127.0.0.1 over plain
http; a Fetcher refuses to be built with it when ``environment == "production"``.

The Fetcher is synchronous and keeps no state between fetches, so it is safe to share between threads;
``fetch_async`` runs it in a worker thread for async callers.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import httpcore
import httpx

from app.errors import FetchError
from app.settings import Settings, get_settings

USER_AGENT = "microcred-fetcher/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Networks ``ipaddress`` does not flag in every Python version, refused explicitly.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 shared address space
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))  # RFC 6052 / 8215

# getaddrinfo has no timeout of its own; resolving in a small pool lets us stop waiting for it.
_DNS_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="microcred-dns")


@dataclass(frozen=True)
class FetchResult:
    """A fetched document: the body, its media type (parameters stripped, lower case), the URL asked for."""

    content: bytes
    content_type: str
    url: str
    address: str = ""  # the vetted IP address actually connected to


# --------------------------------------------------------------------------- address policy


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and would route to (mapped, 6to4, NAT64, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why ``ip`` may not be fetched from, or ``None`` if it may (a public unicast address).

    With ``allow_loopback`` (tests only), 127.0.0.0/8 and ::1 are allowed — but not their
    IPv4-mapped forms, which no honest test needs.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            why = address_refusal(inner, allow_loopback=False)
            if why:
                return f"{why} (embedded in the IPv6 address {ip})"
            if ip.ipv4_mapped is not None:
                # A mapped public address is fine, but judge it as the IPv4 address it is.
                return None
        if ip.scope_id:
            return "a scoped IPv6 address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    checks = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_link_local, "a link-local address (this includes cloud metadata services)"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a carrier-grade NAT address (100.64.0.0/10)"),
        (ip.is_private, "a private or special-purpose address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "an address that is not globally routable"),
    )
    for refused, why in checks:
        if refused:
            return why
    return None


_LABEL = re.compile(rb"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _dns_name(raw_host: bytes) -> bool:
    """Whether ``raw_host`` (the ASCII form: A-labels already) is a host name a resolver accepts."""
    if not raw_host or len(raw_host) > 253:
        return False
    return all(_LABEL.fullmatch(label) for label in raw_host.split(b"."))


def _is_ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


# --------------------------------------------------------------------------- the guarded network backend


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the fetch's total deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float):
        self._inner = inner
        self._deadline = deadline

    def _remaining(self, timeout: float | None, exc: type[Exception]) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise exc("total fetch time exceeded")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None) -> httpcore.NetworkStream:
        # server_hostname is the URL's host name (httpcore passes origin.host), never the IP we dialled.
        inner = self._inner.start_tls(ssl_context, server_hostname, self._remaining(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves the host itself, vets every address, and connects only to a vetted one."""

    def __init__(self, *, allow_loopback: bool, deadline: float, connect_timeout: float):
        self._inner = httpcore.SyncBackend()
        self._allow_loopback = allow_loopback
        self._deadline = deadline
        self._connect_timeout = connect_timeout
        self.dialled: list[str] = []  # for tests and logs: the addresses actually connected to

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        literal = _is_ip_literal(host)
        if literal is not None:
            return [literal]
        timeout = min(self._connect_timeout, self._deadline - time.monotonic())
        future = _DNS_POOL.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            infos = future.result(timeout=max(timeout, 0.001))
        except FutureTimeout:
            raise FetchError(f"resolving {host} took longer than {timeout:.1f} s", code="FETCH_TIMEOUT") from None
        except OSError as exc:
            raise FetchError(f"{host} could not be resolved: {exc.strerror or exc}", code="FETCH_FAILED") from None
        except (UnicodeError, ValueError):  # the resolver's own IDNA encoding refused the name
            raise FetchError(f"{host[:80]} is not a name that can be resolved", code="FETCH_REFUSED") from None
        addresses: list[IPAddress] = []
        for family, _type, _proto, _name, sockaddr in infos:
            if family in (socket.AF_INET, socket.AF_INET6):
                ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
                if ip not in addresses:
                    addresses.append(ip)
        if not addresses:
            raise FetchError(f"{host} has no IPv4 or IPv6 address", code="FETCH_FAILED")
        return addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._resolve(host, port)
        # Refuse if *any* answer is forbidden: a name that mixes public and internal addresses is an
        # attack (or a misconfiguration) either way, and refusing is simpler than picking.
        for ip in addresses:
            why = address_refusal(ip, allow_loopback=self._allow_loopback)
            if why:
                raise FetchError(f"{host} resolves to {why}; outbound fetches only reach public addresses", code="FETCH_REFUSED")
        last: Exception | None = None
        for ip in addresses:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = min(remaining, self._connect_timeout, timeout if timeout is not None else remaining)
            try:
                stream = self._inner.connect_tcp(str(ip), port, timeout=wait, local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc  # try the next vetted address (e.g. ::1 refused, 127.0.0.1 listening)
                continue
            self.dialled.append(str(ip))
            return _DeadlineStream(stream, self._deadline)
        if isinstance(last, httpcore.ConnectError):
            raise last
        raise httpcore.ConnectTimeout(f"could not connect to {host} in time")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise FetchError("unix sockets are never fetched from", code="FETCH_REFUSED")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport (request/response conversion, error mapping) over the guarded backend."""

    def __init__(self, *, ssl_context: ssl.SSLContext, backend: _GuardedBackend):
        super().__init__(verify=ssl_context, trust_env=False, retries=0)
        # HTTPTransport offers no network_backend argument; replace its pool with one that has ours.
        # httpx is pinned (==0.28.1) and tests/net prove that the backend is the one dialling.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend,
        )


# --------------------------------------------------------------------------- the fetcher


class Fetcher:
    """The guarded outbound HTTP client (security-notes.md §11). Build one per process from Settings."""

    def __init__(self, settings: Settings | None = None, *, ssl_context: ssl.SSLContext | None = None):
        settings = settings or get_settings()
        if settings.fetch_allow_loopback and settings.environment == "production":
            # A test-only allowance switched on in production would open the SSRF door: refuse to start.
            raise FetchError("fetch_allow_loopback is a test-only allowance and is refused in production", code="FETCH_ALLOWANCE_REFUSED")
        self.allow_loopback = settings.fetch_allow_loopback
        self.timeout = float(settings.fetch_timeout_seconds)
        self.connect_timeout = min(float(settings.fetch_connect_timeout_seconds), self.timeout)
        self.max_bytes = int(settings.fetch_max_bytes)
        # Verify against the bundled CA set; trust_env=False ignores SSL_CERT_FILE and friends.
        self._ssl_context = ssl_context or httpx.create_ssl_context(trust_env=False)

    # -- URL policy, checked before any network activity

    def check_url(self, url: str) -> httpx.URL:
        """Parse ``url`` and apply the scheme/host rules; raises ``FetchError`` (FETCH_REFUSED)."""
        if not isinstance(url, str) or not url or len(url) > 2048:
            raise FetchError("a fetch needs a URL of at most 2048 characters", code="FETCH_REFUSED")
        try:
            parsed = httpx.URL(url)
            # ``host`` decodes an IDNA A-label ("xn--…"), which raises for an invalid one (UnicodeError, a
            # ValueError): every parsing error must stay inside this try, or it escapes as a 500.
            host = parsed.host
            userinfo = parsed.userinfo
        except (httpx.InvalidURL, ValueError, TypeError):
            raise FetchError("not a valid URL (its host is not a valid domain name, or it is malformed)", code="FETCH_REFUSED") from None
        if not host:
            raise FetchError("the URL has no host", code="FETCH_REFUSED")
        literal = _is_ip_literal(host)
        if literal is None and not _dns_name(parsed.raw_host):
            # RFC 1035 §2.3.4 / RFC 5890: labels of 1–63 letters, digits and hyphens, 253 characters in all.
            # Anything else (a space, "%", an empty or over-long label) would fail in the resolver instead.
            raise FetchError("the URL's host is not a valid domain name", code="FETCH_REFUSED")
        if userinfo:
            raise FetchError("URLs with user information are not fetched", code="FETCH_REFUSED")
        if parsed.fragment:
            parsed = parsed.copy_with(fragment=None)
        loopback_host = (literal is not None and literal.is_loopback and getattr(literal, "ipv4_mapped", None) is None) or host == "localhost"
        if parsed.scheme == "https":
            pass
        elif parsed.scheme == "http" and self.allow_loopback and loopback_host:
            pass  # the test-only allowance: plain http to a local test server
        else:
            raise FetchError(f"only https URLs are fetched, not {parsed.scheme or 'a relative URL'}", code="FETCH_REFUSED")
        if literal is not None and not (self.allow_loopback and loopback_host):
            raise FetchError(f"URLs naming an IP address ({host}) are not fetched; a DNS name is required", code="FETCH_REFUSED")
        return parsed

    # -- fetching

    def fetch(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None) -> FetchResult:
        """GET ``url`` under every rule of this module; 200 only. Raises ``FetchError`` naming the rule."""
        parsed = self.check_url(url)
        cap = self.max_bytes if max_bytes is None else min(max_bytes, self.max_bytes)
        deadline = time.monotonic() + self.timeout
        backend = _GuardedBackend(allow_loopback=self.allow_loopback, deadline=deadline, connect_timeout=self.connect_timeout)
        transport = _GuardedTransport(ssl_context=self._ssl_context, backend=backend)
        timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
        headers = {"Accept": accept, "Accept-Encoding": "identity", "User-Agent": USER_AGENT}
        try:
            with httpx.Client(transport=transport, follow_redirects=False, trust_env=False, timeout=timeout) as client:
                with client.stream("GET", parsed, headers=headers) as response:
                    result = self._read(response, url, cap, deadline)
                    return FetchResult(result.content, result.content_type, url, backend.dialled[-1] if backend.dialled else "")
        except FetchError:
            raise
        except httpx.TimeoutException:
            raise FetchError(f"fetching {url} took longer than {self.timeout:g} s", code="FETCH_TIMEOUT") from None
        except httpx.HTTPError as exc:
            # Connection refused, TLS failure, protocol error: no detail from the peer is echoed.
            raise FetchError(f"fetching {url} failed: {type(exc).__name__}", code="FETCH_FAILED") from None

    def _read(self, response: httpx.Response, url: str, cap: int, deadline: float) -> FetchResult:
        status = response.status_code
        if 300 <= status < 400:
            raise FetchError(f"{url} answered with a redirect ({status}); redirects are not followed", code="FETCH_REDIRECT")
        if status != 200:
            raise FetchError(f"{url} answered HTTP {status}", code="FETCH_HTTP_STATUS")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise FetchError(f"{url} answered with content-encoding {encoding!r}; only identity is accepted", code="FETCH_REFUSED")
        declared = response.headers.get("content-length")
        if declared is not None and declared.strip().isascii() and declared.strip().isdigit() and int(declared) > cap:
            raise FetchError(f"{url} is {declared} bytes, more than the {cap}-byte cap", code="FETCH_TOO_LARGE")
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > cap:
                raise FetchError(f"{url} is larger than the {cap}-byte cap", code="FETCH_TOO_LARGE")
            if time.monotonic() > deadline:
                raise FetchError(f"fetching {url} took longer than {self.timeout:g} s", code="FETCH_TIMEOUT")
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return FetchResult(content=bytes(body), content_type=content_type, url=url)

    async def fetch_async(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None) -> FetchResult:
        """``fetch`` in a worker thread, for async callers (the event loop is never blocked)."""
        import anyio.to_thread

        return await anyio.to_thread.run_sync(partial(self.fetch, url, accept=accept, max_bytes=max_bytes))


# --------------------------------------------------------------------------- TTL cache

V = TypeVar("V")


class TTLCache(Generic[V]):
    """A thread-safe cache bounded in size (least recently used evicted) and in age.

    Failures are never cached: an unreachable status list must be retried, not remembered as an
    answer (security-notes.md §12).
    """

    def __init__(self, max_age_seconds: float, max_entries: int = 256, *, clock: Callable[[], float] = time.monotonic):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_age = float(max_age_seconds)
        self.max_entries = max_entries
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> TTLCache[V]:
        settings = settings or get_settings()
        return cls(settings.did_cache_seconds, settings.fetch_cache_entries)

    def get(self, key: str) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            stored, value = item
            if self._clock() - stored >= self.max_age:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: str, value: V) -> None:
        if self.max_age <= 0:
            return
        with self._lock:
            self._items[key] = (self._clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def get_or_load(self, key: str, load: Callable[[], V]) -> V:
        """The cached value, or ``load()`` stored and returned; an exception from ``load`` is not cached."""
        value = self.get(key)
        if value is None:
            value = load()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
