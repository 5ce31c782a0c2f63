"""
The gateway's connections, below the app: aiohttp's request handler with a deadline for the first
request head, a cap on open connections per process, and SCIM errors for the requests aiohttp's
parser rejects (400, 414, 431, 415), which never reach the middleware.

Nothing here logs or answers request bytes: aiohttp's own error page and log line quote the
offending line, which may be an Authorization header or a query string.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from gateway.web.fast_lane import FastLane, Head, is_whole_message, parse_head
from gateway.web.http_limits import MAX_FIELD_SIZE, MAX_HEADERS, MAX_REQUEST_LINE
from gateway.web.json_io import error_response
from gateway.web.middlewares import SERVES_ALL

log = structlog.get_logger()

RESERVED_DESCRIPTORS = 128  # for the store, brig's pool, the logs: connections get the rest


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

    def __init__(
        self,
        server: web.Server,
        limits: ConnectionLimits,
        *,
        serves: str = SERVES_ALL,
        fast_lane: FastLane | None = None,
    ) -> None:
        self.server = server
        self.limits = limits
        self.serves = serves
        self.fast_lane = fast_lane
        self.open = 0
        self.waiting: dict[GatewayProtocol, None] = {}  # oldest first
        self._round: list[GatewayProtocol] = []  # connections with a request for the fast lane this round
        make_request = server.request_factory

        def request_factory(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
            if isinstance(protocol, GatewayProtocol):
                protocol.request_began()
            return make_request(message, payload, protocol, writer, task)

        server.request_factory = request_factory

    def __call__(self) -> GatewayProtocol:
        return GatewayProtocol(self)

    def answer_at_end_of_round(self, protocol: GatewayProtocol, loop: asyncio.AbstractEventLoop) -> None:
        """
        Answer the connection's request for the fast lane once the loop has read all it was given
        this round (before it waits for more), with the round's other requests:
        - their reads share one snapshot of the store (`FastLane.reads_together`), taken after
          every one of them arrived, so that none is read as the store was before it came;
        - their answers go out together, so that a client on this machine (nginx, the bench's
          wrk) is woken once for them rather than once each, which cost the gateway as much CPU
          as the rest of a fast-lane answer (docs/performance.md).
        """
        if not self._round:
            loop.call_soon(self._end_round)
        self._round.append(protocol)

    def _end_round(self) -> None:
        protocols, self._round = self._round, []
        lane = self.fast_lane
        with lane.reads_together() if lane is not None else contextlib.nullcontext():
            for protocol in protocols:
                try:
                    protocol.answer_pending()
                except Exception as exc:  # noqa: BLE001 - one connection's failure must not hold the others' answers
                    log.warning("fast_lane_answer_failed", error=type(exc).__name__)
                    protocol.force_close()
        for protocol in protocols:
            try:
                protocol.send_unsent()
            except Exception as exc:  # noqa: BLE001 - as above
                log.warning("fast_lane_answer_not_sent", error=type(exc).__name__)
                protocol.force_close()

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
        # The fast lane answers while aiohttp owes no answer, until a chunk that is not one whole
        # message or an answer that closes the connection (gateway/web/fast_lane.py); after its
        # answers the connection's keep-alive is timed here, as aiohttp saw no request.
        self._fast_lane = guard.fast_lane
        self._remote: str | None = None
        self._owed = 0  # whole messages handed to aiohttp and not answered yet
        self._answered_at = 0.0
        self._lane_answered_last = False
        self._idle_timer: asyncio.TimerHandle | None = None
        self._pending: tuple[Head, bytes] | None = None  # a request the fast lane answers at the end of the round
        self._unsent: bytes | None = None  # a fast-lane answer waiting for the end of the round

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._guard.admit(self):
            self._refused = True
            transport.write(_refusal())  # type: ignore[attr-defined]
            transport.close()
            return
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")  # as aiohttp's request.remote
        self._remote = None if peer is None else str(peer[0]) if isinstance(peer, (list, tuple)) else str(peer)
        self._guard.waiting[self] = None
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(self._guard.limits.header_timeout, self._head_too_late)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._guard.open -= 1
        self._guard.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._leave_fast_lane()
        self._stop_idle_timer()
        self._pending = None  # nowhere to answer it
        self._unsent = None  # nowhere to send it
        if not self._refused:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._pending is not None:
            self.answer_pending()  # first: whatever answers these bytes follows its answer
        if self._unsent is not None:
            self.send_unsent()
        lane = self._fast_lane
        if lane is not None and data:  # aiohttp itself passes b"" to parse what it holds: not a chunk
            head = parse_head(data)
            transport = self.transport
            # Only when aiohttp owes no answer (none may overtake it), and nothing waits to be sent
            # (a client that does not read is aiohttp's to pace).
            writable = transport is not None and not transport.is_closing() and not transport.get_write_buffer_size()
            if head is not None and not self._owed and writable:
                # A whole head came: no longer idle, whoever answers it (aiohttp would say so too).
                self.head_received()
                self.keep_alive(True)  # stops aiohttp's keep-alive timer until the round's end
                self._pending = (head, data)
                self._guard.answer_at_end_of_round(self, self._loop)
                return
            self._hand_on(head, data)
            return
        super().data_received(data)

    def answer_pending(self) -> None:
        """
        Answer the request kept for the end of the round (its answer then waits in `_unsent`),
        or hand it to aiohttp when the fast lane does not answer it.
        """
        pending, self._pending = self._pending, None
        if pending is None:
            return
        head, data = pending
        lane = self._fast_lane
        answer = None if lane is None else lane.answer(head, len(data), self._remote)
        if answer is None:
            self._hand_on(head, data)
            return
        self._unsent = answer
        self._answered()  # the idle time is timed here now

    def _hand_on(self, head: Head | None, data: bytes) -> None:
        """Give aiohttp a chunk the fast lane does not answer."""
        if head is not None and is_whole_message(head, len(data)):
            self._owed += 1  # aiohttp answers it; the fast lane may go on after
        else:
            self._leave_fast_lane()  # part of a message, or several: aiohttp's to the end
        super().data_received(data)

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        """aiohttp writes an answer (each one it gives comes through here)."""
        try:
            answered, reset = await super().finish_response(request, resp, start_time)
        except BaseException:
            self._leave_fast_lane()
            raise
        if reset or not answered.keep_alive:
            self._leave_fast_lane()  # aiohttp closes the connection next: nothing may follow its answer
        # Its answer is written: the fast lane may answer the next chunk, even before aiohttp's
        # start() resumes (in a later callback) to wait for its next message. It then only sets
        # its keep-alive timer after the fast lane's answer: the next fast-lane answer cancels it
        # (`keep_alive(True)`), or it fires after `_idle` has closed the idle connection.
        self._owed = max(0, self._owed - 1)
        return answered, reset

    def request_began(self) -> None:
        """aiohttp read a request head: it times the connection's idleness after it (its keep-alive)."""
        self.head_received()
        self._lane_answered_last = False

    def _answered(self) -> None:
        """A fast-lane answer went out: the connection is idle from now, for keepalive_timeout at most."""
        loop = self._loop
        self._answered_at = loop.time()
        self._lane_answered_last = True
        if self._idle_timer is None:
            self._idle_timer = loop.call_at(self._answered_at + self._guard.limits.keepalive_timeout, self._idle)

    def _idle(self) -> None:
        """
        Close the connection when nothing came since the fast lane's last answer (or only part of
        a head, handed to aiohttp, which times idleness only after a request it read).
        """
        self._idle_timer = None
        if not self._lane_answered_last:
            return  # aiohttp read a request since: its own keep-alive timer runs
        if self._pending is not None:
            return  # a request came, to be answered at the end of this round (which times idleness again)
        due = self._answered_at + self._guard.limits.keepalive_timeout
        if self._loop.time() < due:  # answered again since the timer was set
            self._idle_timer = self._loop.call_at(due, self._idle)
        else:
            self.force_close()

    def send_unsent(self) -> None:
        """Write the fast-lane answer waiting for the end of the round, if any."""
        answer, self._unsent = self._unsent, None
        transport = self.transport
        if answer is not None and transport is not None and not transport.is_closing():
            transport.write(answer)

    def _leave_fast_lane(self) -> None:
        self._fast_lane = None

    def _stop_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def force_close(self) -> None:
        self.answer_pending()  # the request came before the close: answered, then closed
        self.send_unsent()  # answered and logged: it goes out before the connection closes
        self._leave_fast_lane()
        self._stop_idle_timer()
        super().force_close()

    def close(self) -> None:
        self.answer_pending()
        self._leave_fast_lane()
        self._stop_idle_timer()
        super().close()

    async def shutdown(self, timeout: float | None = 15.0) -> None:
        self.answer_pending()
        self._leave_fast_lane()
        self._stop_idle_timer()
        await super().shutdown(timeout)

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
        self,
        runner: web.AppRunner,
        limits: ConnectionLimits,
        *,
        serves: str = SERVES_ALL,
        fast_lane: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(runner, **kwargs)
        self._app = runner.app
        self._limits = limits
        self._fast_lane = fast_lane
        self._serves = serves

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        lane = FastLane(self._app, serves=self._serves) if self._fast_lane else None
        self._server = await loop.create_server(
            ConnectionGuard(
                server, self._limits, serves=self._serves, fast_lane=lane if lane and lane.enabled else None
            ),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
