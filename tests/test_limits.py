"""The limits on every route (digitdraw/limits.py), on a stand-in app, then against the real server."""

from __future__ import annotations

import asyncio
import json

import pytest

from digitdraw import limits
from digitdraw.gradio_compat import MCP_ROUTE, SERVER_FUNCTION_ROUTE, UPLOAD_ROUTE
from tests.harness import post_oversized, rss_mb


def call(middleware: limits.RequestLimits, path: str, chunks: list[bytes], length: int | None = None,
         headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, bytes, list[bytes]]:
    """One POST through the middleware: (status, response body, what the app read)."""
    read, sent = [], []
    headers = list(headers) + ([(b"content-length", str(length).encode())] if length is not None else [])
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "client": ("10.0.0.1", 5000)}
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        while True:
            message = await receive()
            read.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware.app = app
    asyncio.run(middleware(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"), read


@pytest.fixture
def middleware():
    return limits.RequestLimits(None)


def test_a_body_over_its_cap_is_refused_before_it_is_read(middleware):
    status, body, read = call(middleware, "/gradio_api/queue/join", [b"x"], length=500 * limits.MB)
    assert status == 413 and read == [] and b"4 MB" in body


def test_a_body_without_a_length_is_refused_once_it_passes_its_cap(middleware):
    chunk = b"x" * limits.MB
    status, _, read = call(middleware, "/gradio_api/queue/join", [chunk] * 6)
    assert status == 413 and sum(map(len, read)) <= limits.MAX_BODY


def test_each_route_has_its_own_cap():
    assert limits.body_cap(UPLOAD_ROUTE) == limits.MAX_UPLOAD > 10 * limits.MB  # the 10 MB upload, in a form
    assert limits.body_cap(MCP_ROUTE + "/") == limits.MAX_MCP > 10 * limits.MB * 4 // 3  # a 10 MB image as base64
    assert limits.body_cap(SERVER_FUNCTION_ROUTE) == limits.body_cap("/gradio_api/queue/join") == limits.MAX_BODY


def test_normal_requests_pass_whole(middleware):
    drawing = json.dumps({"data": {"strokes": [[[1, 2]] * 3000]}, "session_hash": "a"}).encode()  # a minute of scribbling
    assert len(drawing) < limits.MAX_BODY / 10
    status, body, read = call(middleware, SERVER_FUNCTION_ROUTE, [drawing[:100], drawing[100:]], length=len(drawing))
    assert status == 200 and body == b"ok" and b"".join(read) == drawing


def server_function(session: str) -> bytes:
    return json.dumps({"data": {}, "component_id": 3, "session_hash": session, "fn_name": "read_drawing"}).encode()


def test_a_session_is_limited_far_above_what_a_pupil_draws():
    clock = [0.0]
    middleware = limits.RequestLimits(None, clock=lambda: clock[0])
    pad = [call(middleware, SERVER_FUNCTION_ROUTE, [server_function("pupil")])[0] for _ in range(80)]
    assert pad[: int(limits.SESSION_BURST)] == [200] * int(limits.SESSION_BURST) and pad[-1] == 429
    assert call(middleware, SERVER_FUNCTION_ROUTE, [server_function("another pupil")])[0] == 200
    for _ in range(100):  # a real pad: at most 8 readings a second, for as long as it likes
        clock[0] += 1 / 8
        assert call(middleware, SERVER_FUNCTION_ROUTE, [server_function("pupil")])[0] == 200


def test_an_address_is_limited_however_many_sessions_it_makes_up():
    middleware = limits.RequestLimits(None, clock=lambda: 0.0)
    statuses = [call(middleware, SERVER_FUNCTION_ROUTE, [server_function(f"forged {i}")])[0] for i in range(700)]
    assert statuses.count(200) == int(limits.ADDRESS_BURST) and statuses[-1] == 429
    behind_a_proxy = [(b"x-forwarded-for", b"203.0.113.7, 10.0.0.1")]  # Spaces and nginx say who the client is
    assert call(middleware, SERVER_FUNCTION_ROUTE, [server_function("x")], headers=behind_a_proxy)[0] == 200


def test_the_rate_table_forgets_the_oldest_clients():
    limiter = limits.RateLimiter(1.0, 1.0)
    for i in range(limits.MAX_CLIENTS + 50):
        limiter.allow(str(i), 0.0)
    assert len(limiter.buckets) == limits.MAX_CLIENTS and "0" not in limiter.buckets


@pytest.mark.slow
@pytest.mark.parametrize("path", [SERVER_FUNCTION_ROUTE, "/gradio_api/queue/join", UPLOAD_ROUTE, MCP_ROUTE + "/"])
@pytest.mark.parametrize("chunked", [False, True], ids=["with a length", "chunked"])
def test_a_500_megabyte_body_is_refused_unread_and_costs_no_memory(app_process, path, chunked):
    port, pid = app_process
    before = rss_mb(pid)
    line, sent = post_oversized(port, path, 500 * limits.MB, chunked)
    assert " 413 " in line, line
    assert sent < 100 * limits.MB  # answered long before the body was all sent (how soon: benchmarks.hostile)
    assert rss_mb(pid) - before < 20
