"""uvicorn's httptools protocol with header- and body-read timeouts (what ``serve`` runs: app/cli.py).

uvicorn times out an idle keep-alive connection, but not one that is sending a request: its keep-alive
timer is cancelled by the first byte, so a client that sends one header byte a second holds a
connection (and its memory) for ever; a few thousand of them exhaust a worker (the "slowloris" attack).
Here each request's line and header fields must arrive within ``header_timeout_seconds`` (Settings),
counted from the connection's start or from the first byte of a request on a kept-alive connection;
otherwise the server answers 408 Request Timeout (RFC 9110 §15.5.9) with ``Connection: close`` and
closes the connection. The body must then arrive within ``body_timeout_seconds``, counted from the end of the
header section, or the same 408 answers it (a client that sends its headers at once and then trickles the body
held the connection, and the request's task, for ever); once the application has begun its response the
connection is only closed.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import get_settings

_TIMEOUT_BODY = b"the request's header fields did not arrive in time"
_BODY_TIMEOUT_BODY = b"the request's body did not arrive in time"


class HeaderTimeoutHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose every request must complete its header section in time."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = float(settings.header_timeout_seconds)
        self.body_timeout = float(settings.body_timeout_seconds)
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()  # a connection that never sends a whole request is timed too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def _disarm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        self._disarm_body_timer()
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm_body_timer()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        self._disarm_body_timer()
        super().connection_lost(exc)

    def _body_timeout(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        self.logger.info("closing a connection whose request body took longer than %.1f s", self.body_timeout)
        cycle = getattr(self, "cycle", None)
        if cycle is None or not cycle.response_started:
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
                b"content-length: " + str(len(_BODY_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _BODY_TIMEOUT_BODY
            )
        if cycle is not None:
            cycle.disconnected = True  # the application's receive() sees the disconnect and stops waiting
            cycle.message_event.set()
        self.transport.close()

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        self.logger.info("closing a connection whose request headers took longer than %.1f s", self.header_timeout)
        self.transport.write(
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
            b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY
        )
        self.transport.close()
