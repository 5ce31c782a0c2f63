"""
The real process at its edge (issue 16, items 10-12 and 4): requests aiohttp's parser rejects,
compressed and interrupted bodies, idle and slow connections, a low file-descriptor limit. Raw
sockets to 127.0.0.1 only; every log line must stay one JSON object without request bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import resource
import socket
import sys
import time
from typing import Any

import pytest

from e2e.conftest import Gateway, StartGateway, log_lines, user_body

pytestmark = pytest.mark.e2e

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
QUERY_SECRET = "q7Zx-query-secret-value"


def raw(port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send bytes on a fresh connection, half-close, and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        chunks = []
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def assert_scim_error(answer: bytes, status: int, *secrets_: str) -> dict[str, Any]:
    got, headers, body = parse(answer)
    assert status == got, answer[:300]
    assert headers["content-type"].startswith("application/scim+json"), headers
    document = json.loads(body)
    assert [ERROR_URN] == document["schemas"] and str(status) == document["status"], document
    for secret in secrets_:
        assert secret.encode() not in answer
    return document


def all_logs(gateway: Gateway) -> str:
    return gateway.stdout() + gateway.stderr()


def assert_clean_logs(gateway: Gateway, *secrets_: str) -> list[dict[str, Any]]:
    text = all_logs(gateway)
    for secret in secrets_:
        assert secret not in text, f"{secret!r} was logged"
    return log_lines(text)


def request_head(target: str, *headers: bytes) -> bytes:
    return (
        b"GET "
        + target.encode()
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + b"".join(h + b"\r\n" for h in headers)
        + b"\r\n"
    )


def test_requests_the_parser_rejects_get_scim_errors_and_log_no_request_bytes(gateway: Gateway) -> None:
    """Bad bytes after a valid token, huge headers, bad request lines: SCIM errors, nothing echoed, JSON logs only."""
    token, _ = gateway.create_token()
    bearer = b"Authorization: Bearer " + token.encode()
    for control in (b"\r", b"\x00", b"\x7f", b"\x1b"):
        answer = raw(gateway.port, request_head("/scim/v2/Users", bearer + control + b"x"))
        assert_scim_error(answer, 400, token)
    assert_scim_error(raw(gateway.port, request_head("/scim/v2/Users", bearer + b"A" * 9000)), 431, token)
    many = [b"X-H%d: v" % i for i in range(200)]
    assert_scim_error(raw(gateway.port, request_head("/scim/v2/Users", bearer, *many)), 431, token)
    long_line = f"/scim/v2/Users?filter={QUERY_SECRET}{'x' * 9000}"
    assert_scim_error(raw(gateway.port, request_head(long_line, bearer)), 414, token, QUERY_SECRET)
    bad_line = b"GET /scim/v2/Users?" + QUERY_SECRET.encode() + b"\x01 HTTP/1.1\r\nHost: h\r\n\r\n"
    assert_scim_error(raw(gateway.port, bad_line), 400, QUERY_SECRET)
    assert_scim_error(
        raw(gateway.port, b"BR\x01EW /scim/v2/Users HTTP/1.1\r\nHost: h\r\n" + bearer + b"\r\n\r\n"), 400, token
    )
    assert 200 == gateway.request("GET", "/i/status").status
    assert 0 == gateway.stop()
    assert_clean_logs(gateway, token, QUERY_SECRET)


def post_users(gateway: Gateway, token: str, body: bytes, encoding: str) -> bytes:
    head = (
        f"POST /scim/v2/Users HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/scim+json\r\nContent-Encoding: {encoding}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return raw(gateway.port, head.encode() + body)


def test_compressed_and_interrupted_bodies_are_client_errors(gateway: Gateway) -> None:
    """Corrupt gzip/deflate: 400 invalidSyntax; br/zstd: 415; a disconnect mid-body: 499 in the access line, no 500."""
    token, _ = gateway.create_token()
    good = gzip.compress(json.dumps(user_body("gzipped")).encode())
    assert 201 == parse(post_users(gateway, token, good, "gzip"))[0]
    for encoding in ("gzip", "deflate"):
        error = assert_scim_error(
            post_users(gateway, token, b"this is not compressed at all" * 4, encoding), 400, token
        )
        assert "invalidSyntax" == error["scimType"]
    for encoding in ("br", "zstd"):
        assert_scim_error(post_users(gateway, token, b"\x0b\x02\x80{}\x03", encoding), 415, token)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(
            f"POST /scim/v2/Users HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {token}\r\nX-Request-Id: gone-mid-body\r\n"
            'Content-Type: application/scim+json\r\nContent-Length: 5000\r\n\r\n{"userName": '.encode()
        )
        time.sleep(0.3)
    time.sleep(0.5)
    assert 200 == gateway.request("GET", "/i/status").status
    assert 0 == gateway.stop()
    lines = assert_clean_logs(gateway, token)
    assert not [line for line in lines if line.get("status") == 500 or line.get("level") == "error"], lines
    gone = [line for line in lines if line.get("request_id") == "gone-mid-body" and line.get("event") == "request"]
    assert [499] == [line["status"] for line in gone], lines


def test_idle_and_slow_connections_are_closed_and_real_requests_served(start_gateway: StartGateway) -> None:
    """Hundreds of idle sockets and one slow-loris head: a real request is served, the idle ones are closed."""
    gateway = start_gateway(config={"listen": {"header_timeout_seconds": 1.0, "keepalive_timeout_seconds": 1.0}})
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    count = max(50, min(500, soft - 200))
    idle = [socket.create_connection(("127.0.0.1", gateway.port), timeout=5) for _ in range(count)]
    slow = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    try:
        started = time.monotonic()
        assert 200 == gateway.request("GET", "/i/status").status
        for chunk in (b"GET /i/status HTTP/1.1\r\n", b"Host: h\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n"):
            with contextlib.suppress(OSError):
                slow.sendall(chunk)
            time.sleep(0.4)
        closed = 0
        for sock in [*idle, slow]:
            sock.settimeout(max(0.1, 6.0 - (time.monotonic() - started)))
            try:
                data = sock.recv(1024)
                closed += 1 if data == b"" or b"HTTP/1.1" in data else 0
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
        assert count + 1 == closed
        assert 200 == gateway.request("GET", "/i/status").status
    finally:
        for sock in [*idle, slow]:
            sock.close()
    assert 0 == gateway.stop()
    assert_clean_logs(gateway)


LOW_FD_LIMIT = 256
LIMITED = (
    "import resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({LOW_FD_LIMIT}, {LOW_FD_LIMIT}))\n"
    "sys.argv = ['gateway', 'serve', *sys.argv[1:]]\n"
    "runpy.run_module('gateway', run_name='__main__', alter_sys=True)\n"
)


def test_with_a_low_descriptor_limit_the_gateway_keeps_serving_and_logs_little(start_gateway: StartGateway) -> None:
    """ulimit -n 256 and 300 idle sockets: real requests are still served, the log is not flooded."""
    gateway = start_gateway(argv=[sys.executable, "-c", LIMITED])
    idle = []
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                idle.append(socket.create_connection(("127.0.0.1", gateway.port), timeout=2))
        time.sleep(1.0)
        statuses = [gateway.request("GET", "/i/status", timeout=5).status for _ in range(5)]
        assert [200] * 5 == statuses
        time.sleep(2.0)
        assert 200 == gateway.request("GET", "/i/status", timeout=5).status
    finally:
        for sock in idle:
            sock.close()
    assert 0 == gateway.stop()
    lines = assert_clean_logs(gateway)
    assert len(lines) < 60, [line.get("event") for line in lines][:100]
