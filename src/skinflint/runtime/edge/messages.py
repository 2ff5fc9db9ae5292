"""The edge's messages: its limits, a request, an answer, what an application is, and how an
answer is written (status line, Date, Content-Length, JSON errors as KServe v2 clients read them)."""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Awaitable, Protocol


@dataclass(frozen=True)
class Limits:
    """The edge's bounds; each applies before a request reaches the application."""

    max_connections: int = 4096
    max_concurrency: int = 2048
    max_body: int = 16 * 2**20
    max_header_bytes: int = 32 * 2**10
    request_timeout_s: float = 10.0
    idle_timeout_s: float = 5.0
    max_pipelined: int = 16


@dataclass
class Request:
    """One request: method, percent-decoded path, raw query, headers (lower-case names, repeats
    joined by ', '), the client, the arrival (time.perf_counter() at its first byte), its body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    peer: str
    arrival_s: float
    keep_alive: bool = True
    body: bytes = b""
    route: Any = None                     # what the application's head() found, for handle()
    peek: bool = False                    # head() asks to see the body's first bytes as they come


@dataclass
class Response:
    """An answer; `close` ends the connection after it."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False


class App(Protocol):
    """What the server serves."""

    def head(self, request: Request) -> Response | None:
        """An answer as soon as the headers are in (the body is not read), or None to read it."""
        ...

    def handle(self, request: Request) -> Response | Awaitable[Response]:
        """The answer to a whole request."""
        ...


class Clock:
    """The Date header's value, formatted once a second."""

    def __init__(self) -> None:
        self._second, self._text = -1, ""

    def __call__(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._text = now, email.utils.formatdate(now, usegmt=True)
        return self._text


def encode(response: Response, date: str) -> bytes:
    """The response as bytes to write (status line and headers, then the body)."""
    lines = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}", "server: skinflint",
             f"date: {date}", f"content-length: {len(response.body)}"]
    if response.body or response.status >= 300:
        lines.append(f"content-type: {response.content_type}")
    lines += [f"{k}: {v}" for k, v in response.headers]
    if response.close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


def plain_error(status: int, reason: str, close: bool = False) -> Response:
    """A JSON error body {"error": reason} (the shape KServe v2 clients read)."""
    return Response(status, json.dumps({"error": reason}).encode(), close=close)
