"""
The only structlog.configure() call; the CLI calls it once at start. aiohttp's and asyncio's own
loggers, and the event loop's exception handler, are routed here too, as one line each that
carries no request data: aiohttp quotes the bytes it could not parse (an Authorization header, a
query string) and asyncio the reprs of transports and protocols.

`log_request` writes the access line (one per request, gateway/web/middlewares.py). With the JSON
format at level info or below it renders the line itself, byte for byte what the processor chain
configured here would write (the same keys in the same order, the same timestamp, the same
serialiser), in about half the time: the chain's generic steps (merging every bound context
variable, the exception renderer, the level filter's wrapper) were a tenth of a lookup's CPU.
Whenever structlog is configured otherwise (the console format, a higher level, a test's
capture_logs), it goes through structlog as any other line. Of the bound context it carries the
request id, the only context variable the gateway binds (gateway/web/middlewares.py); one bound
elsewhere would have to be added here too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import select
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
import structlog.tracebacks

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(*, level: str = "info", format: str = "auto") -> None:
    """JSON lines when not on a terminal (or when asked), the console renderer otherwise."""
    as_json = format == "json" or (format == "auto" and not sys.stderr.isatty())
    renderer: list[structlog.types.Processor] = (
        [
            # No local variables in tracebacks: they could hold a token or a password.
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(serializer=_orjson_dumps),
        ]
        if as_json
        else [structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)]
    )
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        *renderer,
    ]
    global _access_line
    _access_line = None
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=(
            structlog.BytesLoggerFactory(file=sys.stderr.buffer)
            if as_json
            else structlog.PrintLoggerFactory(file=sys.stderr)
        ),
        cache_logger_on_first_use=True,
    )
    if as_json and LEVELS[level] <= logging.INFO:
        _access_line = _AccessLine(processors, sys.stderr.buffer)
    bridge = _StructlogBridge()
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers[:] = [bridge]
        library.propagate = False
        library.setLevel(max(LEVELS[level], logging.INFO))  # their debug lines quote requests


def log_request(request_id: str, fields: dict[str, Any]) -> None:
    """
    The access line: `fields` (the caller's dict, changed here), event "request", the request id,
    level and timestamp, as `structlog.get_logger().info("request", **fields)` would write it
    with the request id bound (see the module docstring).
    """
    line = _access_line
    if line is None or not line.configured():
        structlog.get_logger().info("request", **fields)  # a fresh proxy: nothing cached across configurations
        return
    fields["event"] = "request"
    fields["request_id"] = request_id
    fields["level"] = "info"
    fields["timestamp"] = iso_timestamp(time.time_ns())  # TimeStamper's format
    line.add(orjson.dumps(fields, default=str, option=orjson.OPT_APPEND_NEWLINE))


_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def iso_timestamp(now_ns: int) -> str:
    """
    `now_ns` (nanoseconds since the epoch, `time.time_ns()`) as structlog's TimeStamper(fmt="iso",
    utc=True) writes a time: `datetime.isoformat()` in UTC with "Z", microseconds only when they
    are not 0. The date and time of day are formatted once a second.
    """
    global _second
    whole, micros = divmod(now_ns // 1000, 1_000_000)
    if _second[0] != whole:
        _second = (whole, datetime.fromtimestamp(whole, tz=UTC).isoformat()[:19])
    return f"{_second[1]}.{micros:06d}Z" if micros else f"{_second[1]}Z"


class _AccessLine:
    """
    Where `log_request` writes, and the processor chain it stands in for (while that one is
    configured). Lines wait for the end of the event loop's current round of callbacks and then go
    out together: one write() for the requests answered in that round instead of one each (a
    system call per line was most of the line's cost). Each write() holds whole lines and at most
    PIPE_BUF bytes, so that it is atomic on a pipe: the workers of `listen.workers` share one
    stderr, and a longer write could interleave with another worker's and tear lines. A line of
    another logger written meanwhile may come before the access lines of the same round. Without
    a running loop a line is written at once.
    """

    def __init__(self, processors: list[structlog.types.Processor], out: Any) -> None:
        self._processors = processors
        self._chain = tuple(processors)
        self._out = out
        self._pending: list[bytes] = []
        self._scheduled: asyncio.AbstractEventLoop | None = None  # the loop whose round will flush

    def add(self, line: bytes) -> None:
        """Write `line` (one JSON line with its newline) at the end of the loop's round."""
        self._pending.append(line)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._scheduled is not loop:  # none yet, or one on a loop that stopped before its round ended
            self._scheduled = loop
            loop.call_soon(self._end_of_round)

    def _end_of_round(self) -> None:
        self._scheduled = None
        self.flush()

    def flush(self) -> None:
        """Write the pending lines, in whole lines of at most PIPE_BUF bytes per write()."""
        lines, self._pending = self._pending, []
        chunk: list[bytes] = []
        size = 0
        for line in lines:
            if chunk and size + len(line) > select.PIPE_BUF:
                self._write(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            self._write(b"".join(chunk))

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()  # the buffer is empty before (every writer flushes): one write() of `data`

    def configured(self) -> bool:
        """Whether structlog still has our chain (capture_logs, for one, changes the list in place)."""
        current = structlog.get_config()["processors"]
        return current is self._processors and len(current) == len(self._chain) and current[-1] is self._chain[-1]


_access_line: _AccessLine | None = None


def flush_access_lines() -> None:
    """Write the access lines still waiting for their loop's round (`serve` calls it on its way out)."""
    if _access_line is not None:
        _access_line.flush()


LIBRARY_LOGGERS = ("aiohttp", "asyncio")
_MESSAGE_END = re.compile(r"[(<{'\"\n]")  # asyncio appends reprs (of handles, their arguments) there
REPEAT_INTERVAL_SECONDS = 10.0  # a repeated loop error (EMFILE on accept) is logged once per interval


class _StructlogBridge(logging.Handler):
    """A stdlib record as one structlog line: logger, level, error class and where, never the message."""

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        method = record.levelname.lower() if record.levelname.lower() in LEVELS else "error"
        getattr(structlog.get_logger(), method)(
            "library_log", logger=record.name, error=type(exc).__name__ if exc else None, where=_where(exc)
        )


def install_loop_exception_handler(loop: asyncio.AbstractEventLoop) -> None:
    """
    The loop's exception handler: asyncio's fixed message, the error class and errno, at most once
    per REPEAT_INTERVAL_SECONDS for each (an accept failing with EMFILE repeats thousands of times
    a second), with how many were left out.
    """
    last: dict[tuple[str, str], float] = {}
    skipped: dict[tuple[str, str], int] = {}

    def handle(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = _MESSAGE_END.split(str(context.get("message", "")), maxsplit=1)[0][:200]
        key = (message, type(exc).__name__ if exc else "")
        now = time.monotonic()
        if now - last.get(key, -REPEAT_INTERVAL_SECONDS) < REPEAT_INTERVAL_SECONDS:
            skipped[key] = skipped.get(key, 0) + 1
            return
        last[key] = now
        structlog.get_logger().error(
            "event_loop_error",
            message=message,
            error=key[1] or None,
            errno=getattr(exc, "errno", None),
            where=_where(exc),
            repeated=skipped.pop(key, 0),
        )

    loop.set_exception_handler(handle)


def _where(exc: BaseException | None) -> str | None:
    """file:line function where an exception was raised; its message may quote request data."""
    if exc is None or exc.__traceback__ is None:
        return None
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{frame.filename}:{frame.lineno} {frame.name}"


def _orjson_dumps(event: object, **_: object) -> bytes:
    """orjson for the log lines (the stdlib encoder was a tenth of a lookup's CPU)."""
    return orjson.dumps(event, default=str)
