"""
The access line's own renderer (gateway/logconfig.py `log_request`): byte for byte the line the
configured structlog chain writes, except for the moment in its timestamp; through structlog
whenever structlog is configured otherwise (a test's capture_logs); none above level info.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import select
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog

from gateway import logconfig

FIELDS = {
    "method": "GET",
    "path": "/scim/v2/Users/5eed0000-be4c-4a11-9000-000000000001",
    "status": 200,
    "duration_ms": 0.42,
    "team": "5eed0000-be4c-4a11-9000-000000000002",
    "token_id": None,
    "client": "127.0.0.1",
    "user_agent": "Okta SCIM Client 1.0.0",
}


@pytest.fixture(name="stderr")
def _stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.BytesIO]:
    """
    A byte buffer for configure_logging to take as sys.stderr (`configure` below: pytest puts its
    own sys.stderr back between a fixture and the test); structlog's configuration and the
    library loggers are put back after.
    """
    raw = io.BytesIO()
    monkeypatch.setattr(logconfig, "_access_line", None)
    saved = structlog.get_config()
    libraries = {name: logging.getLogger(name) for name in logconfig.LIBRARY_LOGGERS}
    kept = {name: (lg.handlers[:], lg.propagate, lg.level) for name, lg in libraries.items()}
    yield raw
    structlog.configure(**saved)
    structlog.contextvars.clear_contextvars()
    for name, (handlers, propagate, level) in kept.items():
        libraries[name].handlers[:] = handlers
        libraries[name].propagate = propagate
        libraries[name].setLevel(level)


def configure(raw: io.BytesIO, level: str) -> None:
    """configure_logging(format json) writing to `raw`."""
    real = sys.stderr
    sys.stderr = _Stderr(raw)  # type: ignore[assignment]
    try:
        logconfig.configure_logging(level=level, format="json")
    finally:
        sys.stderr = real


class _Stderr:
    """What configure_logging uses of sys.stderr: its byte buffer, and not a terminal."""

    def __init__(self, raw: io.BytesIO) -> None:
        self.buffer = raw

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        return self.buffer.write(text.encode())

    def flush(self) -> None:
        pass


def lines(raw: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in raw.getvalue().splitlines()]


def test_the_line_is_what_structlog_writes_but_for_the_time(stderr: io.BytesIO) -> None:
    """Same keys in the same order, same values; both timestamps ISO 8601 UTC with a Z."""
    configure(stderr, "info")
    structlog.contextvars.bind_contextvars(request_id="abc123")

    structlog.get_logger().info("request", **FIELDS)
    logconfig.log_request("abc123", dict(FIELDS))

    by_structlog, by_us = lines(stderr)
    assert list(by_structlog) == list(by_us)
    assert {**by_structlog, "timestamp": ""} == {**by_us, "timestamp": ""}
    assert by_us["timestamp"].endswith("Z") and by_us["timestamp"][:4].isdigit()
    assert "request" == by_us["event"] and "info" == by_us["level"]


def test_a_capture_of_the_logs_still_sees_the_line(stderr: io.BytesIO) -> None:
    """capture_logs reconfigures structlog: the line goes through it there, not to stderr."""
    configure(stderr, "info")

    with structlog.testing.capture_logs() as captured:
        logconfig.log_request("abc123", dict(FIELDS))

    assert [("request", "/scim/v2/Users/5eed0000-be4c-4a11-9000-000000000001")] == [
        (e["event"], e["path"]) for e in captured
    ]
    assert b"" == stderr.getvalue()


def test_no_access_line_above_level_info(stderr: io.BytesIO) -> None:
    """log.level warning: requests are not logged, as with structlog's own filter."""
    configure(stderr, "warning")

    logconfig.log_request("abc123", dict(FIELDS))

    assert b"" == stderr.getvalue()


@pytest.mark.parametrize(
    "now_ns",
    [0, 1_500_000_000, 1_764_777_600_000_001_000, 1_764_777_600_999_999_999, 1_764_777_601_250_000_000, 4_102_444_799_500_000_000],
)
def test_the_timestamp_is_structlogs_format(now_ns: int) -> None:
    """iso_timestamp formats as TimeStamper(fmt="iso", utc=True): isoformat, "Z", no zero microseconds."""
    when = datetime.fromtimestamp(now_ns // 1_000_000_000, tz=UTC) + timedelta(microseconds=now_ns // 1000 % 1_000_000)
    expected = when.isoformat().replace("+00:00", "Z")
    assert expected == logconfig.iso_timestamp(now_ns)
    assert expected == logconfig.iso_timestamp(now_ns)  # again within the same second: from the cache


class _Writes(io.BytesIO):
    """A byte buffer that records what each flush wrote: one write() of the real stderr's buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self._flushed = 0

    def flush(self) -> None:
        value = self.getvalue()
        if len(value) > self._flushed:
            self.writes.append(value[self._flushed :])
            self._flushed = len(value)


async def test_the_lines_of_one_loop_round_go_out_in_one_write() -> None:
    """On a running loop each line waits for the end of the round; then they go out together."""
    out = _Writes()
    line = logconfig._AccessLine([], out)  # noqa: SLF001 - the writer alone, without structlog's chain
    for n in range(3):
        line.add(b"line %d\n" % n)
    assert [] == out.writes  # nothing written within the round
    await asyncio.sleep(0)  # the round ends
    assert [b"line 0\nline 1\nline 2\n"] == out.writes
    line.add(b"line 3\n")
    await asyncio.sleep(0)
    assert [b"line 0\nline 1\nline 2\n", b"line 3\n"] == out.writes


async def test_no_write_is_longer_than_pipe_buf_or_splits_a_line() -> None:
    """Workers share stderr: a write() of at most PIPE_BUF bytes is atomic on a pipe, so lines never tear."""
    out = _Writes()
    line = logconfig._AccessLine([], out)  # noqa: SLF001
    lines = [b"%04d %s\n" % (n, b"x" * (n % 700)) for n in range(60)]
    lines.append(b"y" * (select.PIPE_BUF + 10) + b"\n")  # longer than PIPE_BUF: alone in its write
    for text in lines:
        line.add(text)
    await asyncio.sleep(0)
    assert b"".join(lines) == b"".join(out.writes)
    assert len(out.writes) > 1
    for written in out.writes:
        assert written.endswith(b"\n")
        assert len(written) <= select.PIPE_BUF or written.count(b"\n") == 1


def test_without_a_loop_a_line_is_written_at_once() -> None:
    out = _Writes()
    line = logconfig._AccessLine([], out)  # noqa: SLF001
    line.add(b"x\n")
    assert [b"x\n"] == out.writes


def test_lines_left_by_a_loop_that_stopped_go_out_with_the_next() -> None:
    """A loop that ended before its round's flush left a line pending: the next loop's round writes it too."""
    out = _Writes()
    line = logconfig._AccessLine([], out)  # noqa: SLF001
    stopped = asyncio.new_event_loop()
    stopped.close()
    line._pending.append(b"first\n")  # noqa: SLF001 - as that loop left it: scheduled, never run
    line._scheduled = stopped  # noqa: SLF001

    async def one_line() -> None:
        line.add(b"second\n")

    asyncio.run(one_line())
    assert [b"first\nsecond\n"] == out.writes


def test_flush_access_lines_writes_what_is_pending(stderr: io.BytesIO) -> None:
    configure(stderr, "info")
    line = logconfig._access_line  # noqa: SLF001
    assert line is not None
    line._pending.append(b'{"event":"request"}\n')  # noqa: SLF001 - as a round that never ended
    logconfig.flush_access_lines()
    assert b'{"event":"request"}\n' == stderr.getvalue()
