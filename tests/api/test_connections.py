"""
gateway/web/connections.py in-process over a real loopback socket: a failure inside aiohttp's own
handling (outside the middleware) is a SCIM 500 with a request id, logged without its message.
"""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from gateway.config import Listen
from gateway.web.connections import ConnectionLimits, GatewaySite
from gateway.web.middlewares import handle_request

SECRET = "secret-in-the-exception-message"


async def test_an_error_in_aiohttps_own_handling_is_a_scim_500_with_a_request_id() -> None:
    async def boom(_request: web.Request) -> None:
        raise RuntimeError(SECRET)  # an expect handler runs before any middleware

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="never")

    app = web.Application(middlewares=[handle_request])
    app.router.add_post("/boom", hello, expect_handler=boom)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = GatewaySite(runner, ConnectionLimits.of(Listen()), host="127.0.0.1", port=0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        with structlog.testing.capture_logs() as logs:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /boom HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}")
            answer = await asyncio.wait_for(reader.read(), 5)
            writer.close()
    finally:
        await runner.cleanup()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500"), answer
    assert b"application/scim+json" in head and SECRET.encode() not in answer
    assert b'"status":"500"' in body
    request_id = next(line.split(b": ")[1].decode() for line in head.split(b"\r\n") if line.startswith(b"X-Request-Id"))
    assert request_id.encode() in body
    errors = [entry for entry in logs if entry["event"] == "unhandled_error"]
    assert [request_id] == [entry["request_id"] for entry in errors]
    assert SECRET not in repr(logs)
