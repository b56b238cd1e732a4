"""Limits on every route, as ASGI middleware in front of Gradio's app: no request can take the
server's memory or its time.

- A request body is capped by its route: uploads at the upload limit, MCP calls (images come as
  base64) at that as base64, everything else at MAX_BODY. A body over its cap is answered 413
  before it is read (by its Content-Length), or as soon as it passes the cap (a chunked body).
- The components' server functions (a reading per stroke) are rate limited per session, far above
  what a pupil can draw, with a backstop per address.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import orjson

from .gradio_compat import MCP_ROUTE, SERVER_FUNCTION_ROUTE, UPLOAD_ROUTE

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MB = 1024 * 1024
# Every body but an upload: the largest real drawing is about 300 KB (a minute of scribbling, 3,000
# points), an image sent as a data URL at most 2 MB (answers.MAX_IMAGE_BYTES; 2.7 MB as base64).
MAX_BODY = 4 * MB
# Uploads: the server's file limit (serving.MAX_FILE_SIZE, 10 MB), plus the multipart form around it.
MAX_UPLOAD = 11 * MB
# MCP calls carry an image as base64: 4/3 the upload limit, plus the JSON around it.
MAX_MCP = 14 * MB
# The pad sends at most one reading every 150 ms while a stroke is drawn, and one when it ends: under
# 8 a second. A session may send 20 a second, in bursts of 40 ...
SESSION_RATE = 20.0
SESSION_BURST = 40.0
# ... and one address 300 a second (a class of 30 behind one school router draws at about 100).
ADDRESS_RATE = 300.0
ADDRESS_BURST = 600.0
# Buckets kept: the least recently seen are forgotten first, so the table stays small.
MAX_CLIENTS = 10_000


class BodyTooLarge(Exception):
    pass


@dataclass
class Bucket:
    """A token bucket: `rate` tokens a second, at most `burst` saved."""

    tokens: float
    seen: float


class RateLimiter:
    """Token buckets by key, the least recently seen forgotten beyond MAX_CLIENTS."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()

    def allow(self, key: str, now: float) -> bool:
        bucket = self.buckets.pop(key, None) or Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.seen) * self.rate)
        bucket.seen = now
        self.buckets[key] = bucket
        while len(self.buckets) > MAX_CLIENTS:
            self.buckets.popitem(last=False)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


def body_cap(path: str) -> int:
    """The largest body a route takes."""
    if path.endswith(UPLOAD_ROUTE):
        return MAX_UPLOAD
    if MCP_ROUTE in path:
        return MAX_MCP
    return MAX_BODY


async def _answer(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _client_address(scope: Scope) -> str:
    """The client's address: the first X-Forwarded-For hop behind a proxy (Spaces, nginx), else the peer."""
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            return value.split(b",")[0].strip().decode("latin-1")
    client = scope.get("client")
    return client[0] if client else ""


class RequestLimits:
    """ASGI middleware: body caps on every route, rate limits on the server functions."""

    def __init__(self, app: App, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.clock = clock
        self.sessions = RateLimiter(SESSION_RATE, SESSION_BURST)
        self.addresses = RateLimiter(ADDRESS_RATE, ADDRESS_BURST)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        cap = body_cap(scope["path"])
        length = dict(scope.get("headers", ())).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > cap):
            return await _answer(send, 413, f"The request is over {cap // MB} MB.")
        if scope["path"].rstrip("/").endswith(SERVER_FUNCTION_ROUTE):
            return await self._server_function(scope, receive, send, cap)
        await self.app(scope, *_guarded(receive, send, cap))

    async def _server_function(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        """Read the (small) body, rate limit its session, then hand the body on."""
        try:
            body = await _read_body(receive, cap)
        except BodyTooLarge:
            return await _answer(send, 413, f"The request is over {cap // MB} MB.")
        now = self.clock()
        if not self.addresses.allow(_client_address(scope), now) or not self.sessions.allow(_session(body), now):
            return await _answer(send, 429, "Too many requests: slow down.")
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _session(body: bytes) -> str:
    try:
        session = orjson.loads(body).get("session_hash")
    except (orjson.JSONDecodeError, AttributeError):
        return ""
    return session if isinstance(session, str) else ""


async def _read_body(receive: Receive, cap: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _guarded(receive: Receive, send: Send, cap: int) -> tuple[Receive, Send]:
    """`receive` and `send` for a route reading a body of unknown length: once more than `cap` bytes
    have come, the client is answered 413 and the route is told the client left (a route's own error
    handling would turn an exception into a 400), and whatever the route sends after is dropped."""
    size, started, refused = 0, False, False

    async def guarded_receive() -> dict[str, Any]:
        nonlocal size, refused
        message = await receive()
        if message["type"] == "http.request" and not refused:
            size += len(message.get("body", b""))
            if size > cap:
                if not started:
                    await _answer(send, 413, f"The request is over {cap // MB} MB.")
                refused = True
        return {"type": "http.disconnect"} if refused else message

    async def guarded_send(message: dict[str, Any]) -> None:
        nonlocal started
        if not refused:
            started = started or message["type"] == "http.response.start"
            await send(message)

    return guarded_receive, guarded_send
