"""A small HTTP/1.1 server on asyncio and httptools that bounds a client before it reads from it.

Connections are counted the moment they open, before any byte (and so before auth): beyond
`Limits.max_connections` the connection that has waited longest without a request in the
application is closed to make room (an idle keep-alive socket, a slow sender); when every
connection has a request in the application, the new one is answered 503 and closed. A
request's line and headers are capped (431), its declared body is checked against the cap
before a byte of it is read (413), a chunked body as it arrives; a request must arrive whole
within `request_timeout_s` of its first byte (408), and a keep-alive connection with no next
request is closed after `idle_timeout_s`. At most `max_concurrency` requests are in the
application at once (503 beyond). A client that goes away mid-request or before its answer
is one log line. Pipelined requests are answered in order; reading pauses while too many wait.

The application (`App`) is asked when the headers are complete (`head`: an answer now, its body
then discarded unread, or None to read it), optionally as the body's first bytes arrive (`peek`,
when head() set `request.peek`: an answer now — say, a tensor header that does not fit — True
when it has seen enough, None for more), and with the whole body (`handle`: a Response, or an
awaitable of one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from typing import Any
from urllib.parse import unquote

import httptools

from skinflint.runtime.edge.messages import (App, Limits, Request, Response, Clock,  # noqa: F401 (re-exported)
                                             encode, plain_error)

log = logging.getLogger("skinflint.edge")


LINGER_S = 1.0        # after an answer that closes mid-body, unread bytes are drained this long


class _TooLarge(Exception):
    """The request line and headers passed Limits.max_header_bytes."""


class Server:
    """Connections of one listening socket: their count, the idle order, requests in the app."""

    def __init__(self, app: App, limits: Limits = Limits()) -> None:
        self.app, self.limits = app, limits
        self.open = 0
        self.active = 0                   # requests in the application
        self.draining = False
        self.evicted = 0
        self._waiting: OrderedDict[Connection, None] = OrderedDict()   # no request in the app, oldest first
        self._all: set[Connection] = set()
        self.date = Clock()

    def protocol(self) -> "Connection":
        """A protocol object for a new connection (asyncio's protocol factory)."""
        return Connection(self)

    def opened(self, conn: "Connection") -> bool:
        """Count `conn`; make room by closing the longest-waiting one, or refuse (False)."""
        self._all.add(conn)
        self.open += 1
        if self.open > self.limits.max_connections:
            victim = next(iter(self._waiting), None)
            if victim is None:
                return False
            self.evicted += 1
            victim.abort()
        self._waiting[conn] = None
        return True

    def closed(self, conn: "Connection") -> None:
        """`conn` is gone."""
        if conn in self._all:
            self._all.discard(conn)
            self.open -= 1
        self._waiting.pop(conn, None)

    def waiting(self, conn: "Connection", yes: bool) -> None:
        """`conn` has no request in the application (yes: now the youngest such) or has one."""
        if yes:
            self._waiting[conn] = None
            self._waiting.move_to_end(conn)
        else:
            self._waiting.pop(conn, None)

    def drain(self) -> None:
        """Stop taking requests: close waiting connections; busy ones close after their answer."""
        self.draining = True
        for conn in list(self._waiting):
            if not conn.receiving:
                conn.abort()


class Connection(asyncio.Protocol):
    """One client connection: parse, bound, queue, answer in order."""

    def __init__(self, server: Server) -> None:
        self.server, self.limits = server, server.limits
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.peer = "?"
        self.receiving = False            # a request's first byte is in, its last is not
        self._url, self._headers, self._head_bytes = b"", [], 0
        self._req: Request | None = None
        self._early: Response | None = None
        self._body: bytearray | None = None
        self._seen_body = 0
        self._queue: deque[tuple[Request, Response | None]] = deque()
        self._busy = False                # a request is in the application
        self._current: Request | None = None
        self._paused = False
        self._closing = False             # we stop reading: an answer that closes, a timeout, the client gone
        self._arrival = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # -- asyncio --------------------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:  # noqa: D102
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        if not self.server.opened(self):
            self._answer_and_close(plain_error(503, "too many connections: retry later", close=True))
            return
        self._arm(self.limits.idle_timeout_s, self.abort)

    def data_received(self, data: bytes) -> None:  # noqa: D102
        if self._closing:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._answer_and_close(plain_error(400, "protocol upgrades are not supported", close=True))
        except httptools.HttpParserError as e:   # (a callback's exception arrives wrapped in one)
            if self._head_bytes > self.limits.max_header_bytes:
                self._answer_and_close(plain_error(431, f"request line and headers exceed "
                                                   f"{self.limits.max_header_bytes} bytes", close=True))
            elif not self._closing:
                self._answer_and_close(plain_error(400, f"malformed HTTP request: {e}", close=True))

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self.server.closed(self)
        self._cancel_timer()
        if not self._closing and (self.receiving or self._busy):
            req = self._req if self.receiving else self._current
            what = f"{req.method} {req.path}" if req else "request headers"
            if self.receiving:
                log.info("client %s disconnected mid-request (%s, %d body bytes in)", self.peer, what,
                         self._seen_body)
            else:
                log.info("client %s disconnected before its answer (%s)", self.peer, what)
        self._closing = True

    # -- httptools callbacks --------------------------------------------------------------------
    def on_message_begin(self) -> None:  # noqa: D102
        self.receiving = True
        self._url, self._headers, self._head_bytes = b"", [], 0
        self._req, self._early, self._body, self._seen_body = None, None, bytearray(), 0
        self._arrival = time.perf_counter()
        self._arm(self.limits.request_timeout_s, self._too_slow)
        if not self._busy:
            self.server.waiting(self, True)

    def on_url(self, url: bytes) -> None:  # noqa: D102
        self._url += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:  # noqa: D102
        self._headers.append((name, value))
        self._count(len(name) + len(value) + 4)

    def on_headers_complete(self) -> None:  # noqa: D102
        headers: dict[str, str] = {}
        for name, value in self._headers:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1").strip()
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        try:
            url = httptools.parse_url(self._url)
            path = unquote(url.path.decode("latin-1")) if url.path else ""
        except httptools.HttpParserInvalidURLError:
            url, path = None, ""
        req = Request(self.parser.get_method().decode("latin-1"), path,
                      url.query.decode("latin-1") if url and url.query else "", headers, self.peer,
                      self._arrival, self.parser.should_keep_alive())
        self._req = req
        early = self._check(req)
        if early is not None:
            self._early, self._body = early, None
            if early.close and not self._busy and not self._queue:
                self._answer_and_close(early)
        elif headers.get("expect", "").lower() == "100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:  # noqa: D102
        self._seen_body += len(body)
        if self._body is not None:
            self._body += body
            if len(self._body) > self.limits.max_body:
                self._body = None
                self._answer_and_close(plain_error(413, f"body larger than the limit of "
                                                   f"{self.limits.max_body} bytes", close=True))
            elif self._req is not None and self._req.peek and not self._busy and not self._queue:
                self._peek(self._req)

    def _peek(self, req: Request) -> None:
        try:
            seen = self.server.app.peek(req, memoryview(self._body))
        except Exception:  # noqa: BLE001 - a bug in the application is a 500, never a dead connection
            log.exception("application error in peek() for %s %s", req.method, req.path)
            seen = plain_error(500, "internal error")
        if isinstance(seen, Response):
            self._body = None
            seen = Response(seen.status, seen.body, seen.content_type, seen.headers +
                            (("server-timing", f"edge;dur={1000 * (time.perf_counter() - req.arrival_s):.3f}"),),
                            close=True)
            self._answer_and_close(seen)
        elif seen:
            req.peek = False

    def on_message_complete(self) -> None:  # noqa: D102
        self.receiving = False
        self._cancel_timer()
        req = self._req
        if req is None or self._closing:
            return
        req.body = bytes(self._body) if self._body else b""
        self._body = None
        self._queue.append((req, self._early))
        if len(self._queue) > self.limits.max_pipelined and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._pump()

    # -- inside ---------------------------------------------------------------------------------
    def _count(self, n: int) -> None:
        self._head_bytes += n
        if self._head_bytes > self.limits.max_header_bytes:
            raise _TooLarge()

    def _check(self, req: Request) -> Response | None:
        """The edge's own checks on a request's head, then the application's."""
        h = req.headers
        if "content-length" in h and "transfer-encoding" in h:
            return plain_error(400, "both Content-Length and Transfer-Encoding: send one", close=True)
        length = h.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limits.max_body):
            return plain_error(413, f"body larger than the limit of {self.limits.max_body} bytes", close=True)
        expect = h.get("expect")
        if expect is not None and expect.lower() != "100-continue":
            return plain_error(417, f"unsupported Expect: {expect}", close=True)
        if self.server.draining:
            return plain_error(503, "the server is shutting down", close=True)
        try:
            return self.server.app.head(req)
        except Exception:  # noqa: BLE001 - a bug in the application is a 500, never a dead connection
            log.exception("application error in head() for %s %s", req.method, req.path)
            return plain_error(500, "internal error")

    def _pump(self) -> None:
        """Start the next queued request unless one is being answered."""
        while not self._busy and self._queue and not self._closing:
            req, early = self._queue.popleft()
            if self._paused and len(self._queue) <= self.limits.max_pipelined // 2:
                self._paused = False
                self.transport.resume_reading()
            if early is not None:
                self._write(req, early)
                continue
            if self.server.active >= self.limits.max_concurrency:
                self._write(req, plain_error(503, f"too many requests in progress "
                                             f"({self.server.active}): retry later"))
                continue
            self._busy, self._current = True, req
            self.server.active += 1
            self.server.waiting(self, False)
            try:
                out = self.server.app.handle(req)
            except Exception:  # noqa: BLE001 - a bug in the application is a 500, never a dead connection
                log.exception("application error for %s %s", req.method, req.path)
                out = plain_error(500, "internal error")
            if isinstance(out, Response):
                self._finish(req, out)
            else:
                asyncio.ensure_future(out).add_done_callback(lambda f, req=req: self._finish_future(req, f))

    def _finish_future(self, req: Request, fut: asyncio.Future) -> None:
        try:
            out = fut.result()
        except Exception:  # noqa: BLE001
            log.exception("application error for %s %s", req.method, req.path)
            out = plain_error(500, "internal error")
        self._finish(req, out)

    def _finish(self, req: Request, out: Response) -> None:
        self.server.active -= 1
        self._busy = False
        self._write(req, out)
        self._pump()

    def _write(self, req: Request, out: Response) -> None:
        if self._closing:
            return
        close = out.close or not req.keep_alive or self.server.draining
        if close or out.status >= 400:      # an error says how long the edge took, first byte to answer
            timing = (("server-timing", f"edge;dur={1000 * (time.perf_counter() - req.arrival_s):.3f}"),)
            out = Response(out.status, out.body, out.content_type,
                           out.headers + (timing if out.status >= 400 else ()), close=close)
        self.transport.write(encode(out, self.server.date()))
        if close:
            self._closing = True
            self._cancel_timer()
            self.transport.close()
        elif not self._busy and not self._queue and not self.receiving:
            self.server.waiting(self, True)
            self._arm(self.limits.idle_timeout_s, self.abort)

    def _answer_and_close(self, out: Response) -> None:
        """Answer now and stop reading requests; unread bytes are drained for LINGER_S, so the
        client reads the answer rather than a reset."""
        if self._closing:
            return
        self._closing = True
        self.transport.write(encode(out, self.server.date()))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm(LINGER_S, self.abort)

    def _too_slow(self) -> None:
        what = f"{self._req.method} {self._req.path}" if self._req else "request headers"
        log.info("client %s too slow: %s not complete within %g s", self.peer, what, self.limits.request_timeout_s)
        self.receiving = False
        self._answer_and_close(plain_error(408, f"request not complete within {self.limits.request_timeout_s:g} s",
                                           close=True))

    def abort(self) -> None:
        """Close now (idle timeout, eviction, drain)."""
        self._closing = True
        self._cancel_timer()
        if self.transport is not None:
            self.transport.close()

    def _arm(self, seconds: float, fn: Any) -> None:
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(seconds, fn)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
