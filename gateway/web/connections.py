"""
The gateway's connections, below the app: aiohttp's request handler with a deadline for the first
request head, a cap on open connections per process, and SCIM errors for the requests aiohttp's
parser rejects (400, 414, 431, 415), which never reach the middleware.

Nothing here logs or answers request bytes: aiohttp's own error page and log line quote the
offending line, which may be an Authorization header or a query string.
"""

from __future__ import annotations

import asyncio
import random
import resource
import traceback
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, ContentEncodingError, LineTooLong

from gateway.config import Listen
from gateway.scim.errors import ScimError
from gateway.web.json_io import error_response
from gateway.web.middlewares import SERVES_ALL

log = structlog.get_logger()

RESERVED_DESCRIPTORS = 128  # for the store, brig's pool, the logs: connections get the rest
MAX_REQUEST_LINE = 8192  # 414 above; different from the field limit, so LineTooLong tells which
MAX_FIELD_SIZE = 8190  # one header line, 431 above
MAX_HEADERS = 100  # 431 above


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout: float
    keepalive_timeout: float
    max_connections: int

    @classmethod
    def of(cls, listen: Listen) -> ConnectionLimits:
        """The configured limits, the cap lowered to fit the process's descriptor limit."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        cap = listen.max_connections
        if soft != resource.RLIM_INFINITY:
            cap = max(8, min(cap, soft - RESERVED_DESCRIPTORS))
        return cls(listen.header_timeout_seconds, listen.keepalive_timeout_seconds, cap)


class ConnectionGuard:
    """
    The protocol factory of a listening socket: counts open connections and, past the cap, closes
    the oldest one still waiting for its first request head (an idle or slow client), else refuses
    the new one with a 503. So a flood of idle sockets costs neither descriptors past the limit nor
    an accept error loop, and a real client that sends its request at once is still served.
    """

    def __init__(self, server: web.Server, limits: ConnectionLimits, *, serves: str = SERVES_ALL) -> None:
        self.server = server
        self.limits = limits
        self.serves = serves
        self.open = 0
        self.waiting: dict[GatewayProtocol, None] = {}  # oldest first
        make_request = server.request_factory

        def request_factory(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
            if isinstance(protocol, GatewayProtocol):
                protocol.head_received()
            return make_request(message, payload, protocol, writer, task)

        server.request_factory = request_factory

    def __call__(self) -> GatewayProtocol:
        return GatewayProtocol(self)

    def admit(self, protocol: GatewayProtocol) -> bool:
        """Count a new connection; False when it must be refused."""
        self.open += 1
        if self.open <= self.limits.max_connections:
            return True
        oldest = next(iter(self.waiting), None)
        if oldest is None:
            return False
        self.waiting.pop(oldest)
        oldest.force_close()
        return True


class GatewayProtocol(web.RequestHandler):
    """aiohttp's request handler with the guard's deadline and cap, and SCIM error pages."""

    def __init__(self, guard: ConnectionGuard) -> None:
        super().__init__(
            guard.server,
            loop=asyncio.get_running_loop(),
            keepalive_timeout=guard.limits.keepalive_timeout,
            access_log=None,  # type: ignore[arg-type]  # aiohttp accepts None: the middleware writes the access line
            max_line_size=MAX_REQUEST_LINE,
            max_field_size=MAX_FIELD_SIZE,
            max_headers=MAX_HEADERS,
        )
        self._guard = guard
        self.serves = guard.serves  # which paths this listener answers (gateway/web/middlewares.py)
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._guard.admit(self):
            self._refused = True
            transport.write(_refusal())  # type: ignore[attr-defined]
            transport.close()
            return
        super().connection_made(transport)
        self._guard.waiting[self] = None
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(self._guard.limits.header_timeout, self._head_too_late)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._guard.open -= 1
        self._guard.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
        if not self._refused:
            super().connection_lost(exc)

    def head_received(self) -> None:
        """The first request head is in: the connection is no longer idle or slow."""
        self._guard.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_late(self) -> None:
        self._head_timer = None
        if self in self._guard.waiting:
            self._guard.waiting.pop(self)
            self.force_close()

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's "Unhandled exception" lines, without the message (it may quote the request)."""
        exc = kw.get("exc_info")
        error = exc if isinstance(exc, BaseException) else None
        if isinstance(error, (web.RequestPayloadError, ConnectionError)):  # a body left unread, a client gone
            log.info("connection_dropped", error=type(error).__name__)
        else:
            log.error("connection_error", error=type(error).__name__ if error else None, where=_where(error))

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A SCIM error with a request id instead of aiohttp's page, which echoes the bytes it refused."""
        request_id = f"{random.getrandbits(128):032x}"
        status, detail = _rejection(status, exc, request_id)
        fields = {"request_id": request_id, "status": status, "error": type(exc).__name__ if exc else None}
        if status >= 500:
            log.error("unhandled_error", **fields, where=_where(exc), peer=request.remote)
        else:
            log.info("request_rejected", **fields, peer=request.remote)
        if request.writer.output_size > 0:
            raise ConnectionError("the response has begun; no error page can follow")
        response = error_response(ScimError(detail, status=status))
        response.headers["Request-Id"] = request_id
        response.headers["X-Request-Id"] = request_id
        response.force_close()
        return response


def _rejection(status: int, exc: BaseException | None, request_id: str) -> tuple[int, str]:
    """(status, detail) for a request aiohttp could not read or handle; never its bytes."""
    if status >= 500 or exc is None:
        return 500, f"Internal error; quote request id {request_id} to the operator"
    if isinstance(exc, LineTooLong):
        if exc.args[1:2] == (MAX_REQUEST_LINE,):
            return 414, f"The request line is longer than {MAX_REQUEST_LINE} bytes"
        return 431, f"A request header is longer than {MAX_FIELD_SIZE} bytes"
    if isinstance(exc, ContentEncodingError):
        return 415, "Content-Encoding not supported; send the body uncompressed, gzip or deflate"
    if isinstance(exc, BadHttpMessage) and exc.message == "Too many headers received":
        return 431, f"More than {MAX_HEADERS} request headers"
    return 400, "The request is not valid HTTP/1.1 (request line or headers)"


def _where(exc: BaseException | None) -> str | None:
    """Where an exception was raised (file:line function), without its message: that may hold request data."""
    if exc is None or exc.__traceback__ is None:
        return None
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{frame.filename}:{frame.lineno} {frame.name}"


def _refusal() -> bytes:
    body = error_response(ScimError("Too many open connections; retry shortly", status=503)).body
    assert isinstance(body, bytes)
    return (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/scim+json; charset=utf-8\r\n"
        b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


class GatewaySite(web.TCPSite):
    """
    aiohttp's TCPSite, serving through a ConnectionGuard instead of the runner's bare server;
    `serves` says which paths it answers ("all", or with an internal listener "public"/"internal").
    """

    def __init__(
        self, runner: web.AppRunner, limits: ConnectionLimits, *, serves: str = SERVES_ALL, **kwargs: Any
    ) -> None:
        super().__init__(runner, **kwargs)
        self._limits = limits
        self._serves = serves

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            ConnectionGuard(server, self._limits, serves=self._serves),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
