"""A real HTTP(S) server on 127.0.0.1 for fetcher and did:web tests (no test reaches the internet).

Routes: ``/redirect`` (302), ``/status/NNN``, ``/big`` (declared length), ``/big-stream`` (no length),
``/slow`` (headers late), ``/drip`` (body one byte at a time), ``/gzip`` (content-encoded), and any
path put in ``server.documents`` (served with its content type).
"""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json", headers: dict | None = None, length=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        stop = self.server.stop
        self.server.requests.append((self.path, dict(self.headers)))
        path = self.path.split("?", 1)[0]
        if path in self.server.documents:
            content_type, body = self.server.documents[path]
            return self._send(200, body, content_type)
        if path == "/ok":
            return self._send(200, b'{"ok":true}', "application/json; charset=utf-8")
        if path == "/redirect":
            return self._send(302, b"", headers={"Location": "/ok"})
        if path.startswith("/status/"):
            return self._send(int(path.rsplit("/", 1)[1]), b"{}")
        if path == "/big":
            return self._send(200, b"x" * 5000)
        if path == "/big-stream":
            # HTTP/1.0 without Content-Length: the body ends when the connection closes.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            for _ in range(200):
                if stop.is_set():
                    return
                self.wfile.write(b"y" * 1000)
            return None
        if path == "/slow":
            if stop.wait(3):
                return None
            return self._send(200, b"{}")
        if path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if stop.wait(0.05):
                    return None
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return None
            return None
        if path == "/gzip":
            import gzip

            return self._send(200, gzip.compress(b"{}"), headers={"Content-Encoding": "gzip"})
        return self._send(404, b"{}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    documents: dict[str, tuple[str, bytes]]
    requests: list
    stop: threading.Event

    def handle_error(self, request, client_address):  # failed TLS handshakes are expected in tests
        pass


class LocalServer:
    """``with LocalServer() as srv: srv.url("/ok")``; pass ``tls=(cert_file, key_file)`` for https."""

    def __init__(self, tls: tuple[Path, Path] | None = None):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.documents = {}
        self._server.requests = []
        self._server.stop = threading.Event()
        self.scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def documents(self) -> dict[str, tuple[str, bytes]]:
        return self._server.documents

    @property
    def requests(self) -> list:
        return self._server.requests

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop.set()
        self._server.shutdown()
        self._server.server_close()


def self_signed_localhost(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for DNS name ``localhost`` (and no IP address), with its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file
