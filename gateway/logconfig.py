"""The only structlog.configure() call; the CLI calls it once at start."""

from __future__ import annotations

import logging
import sys

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


def _orjson_dumps(event: object, **_: object) -> bytes:
    """orjson for the log lines (the stdlib encoder was a tenth of a lookup's CPU)."""
    return orjson.dumps(event, default=str)
