"""
The only structlog.configure() call; the CLI calls it once at start. aiohttp's and asyncio's own
loggers, and the event loop's exception handler, are routed here too, as one line each that
carries no request data: aiohttp quotes the bytes it could not parse (an Authorization header, a
query string) and asyncio the reprs of transports and protocols.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
import traceback
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
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=(
            structlog.BytesLoggerFactory(file=sys.stderr.buffer)
            if as_json
            else structlog.PrintLoggerFactory(file=sys.stderr)
        ),
        cache_logger_on_first_use=True,
    )
    bridge = _StructlogBridge()
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers[:] = [bridge]
        library.propagate = False
        library.setLevel(max(LEVELS[level], logging.INFO))  # their debug lines quote requests


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
