"""
The fast lane reads request heads itself (gateway/web/fast_lane.py `parse_head`), so it must never
read one otherwise than aiohttp's parser (the one that answers everything else): whenever it
accepts bytes, aiohttp's parser reads the same method, target and headers from them, and a chunk
it calls one whole message is exactly one message to aiohttp, body and all. Hypothesis draws heads
from near the edges: control characters, folding, bare CR and LF, spaces before colons, several
Hosts, bodies by Content-Length and chunked.
"""

from __future__ import annotations

import asyncio

from aiohttp.base_protocol import BaseProtocol
from aiohttp.http import HttpRequestParser
from aiohttp.http_exceptions import HttpProcessingError
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.web.fast_lane import is_whole_message, parse_head

# Mostly what clients send, sometimes what they must not: a draw is accepted often enough that
# the properties below are tested on many heads, not only on refusals.
NAMES = st.sampled_from(
    ["Host", "Authorization", "Accept", "User-Agent", "X-Request-Id", "Content-Length", "X-A", "x-a", "Accept"] * 4
    + ["Transfer-Encoding", "X A", "X-A ", " X-A", "", "X:A", "X\tA", "X\xe9"]
)
VALUES = st.one_of(
    st.sampled_from(["scim.example.com", "Bearer abc=", "application/scim+json", "2", "0", "", " v ", "a\tb", "a  b"]),
    st.text(alphabet=st.sampled_from("ab =:;\t\r\n\x00\x7f\xe9"), max_size=6),
)
TARGETS = st.one_of(
    st.sampled_from(["/scim/v2/Users/1", "/scim/v2/Users?filter=userName%20eq%20%22a%22", "/a+b?c=d&e=%41", "/"]),
    st.sampled_from(["/a b", "*", "/%zz", "/\xe9", "http://h/", "/a#b", '/"', "/<>", "/{}", "/\\", "/|", "/^`"]),
)
METHODS = st.sampled_from(["GET"] * 6 + ["POST", "PATCH", "HEAD", "get", "G ET"])
VERSIONS = st.sampled_from(["HTTP/1.1"] * 6 + ["HTTP/1.0", "HTTP/1.1 ", "http/1.1"])
ENDINGS = st.sampled_from(["\r\n"] * 12 + ["\n", "\r"])


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(NAMES, VALUES, ENDINGS), max_size=5))
    lines = [f"{draw(METHODS)} {draw(TARGETS)} {draw(VERSIONS)}\r\n"]
    lines += [f"{name}:{value}{ending}" for name, value, ending in headers if name != "Host"]
    if draw(st.integers(0, 9)):  # one Host, mostly
        lines.insert(draw(st.integers(1, len(lines))), "Host: h\r\n")
    if not draw(st.integers(0, 9)):
        lines.append(" folded\r\n")
    head = "".join(lines) + "\r\n"
    body = draw(st.sampled_from(["", "", "ab", "0\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"]))
    return (head + body).encode("utf-8", "surrogateescape")


def aiohttp_reads(data: bytes) -> list[tuple[object, bool]] | None:
    """aiohttp's parser's messages in `data` as (message, whether its body is complete), or None: refused."""

    async def parse() -> list[tuple[object, bool]] | None:
        loop = asyncio.get_running_loop()
        parser = HttpRequestParser(BaseProtocol(loop), loop, 2**16, max_line_size=8192, max_field_size=8190)
        try:
            messages, _upgraded, tail = parser.feed_data(data)
        except HttpProcessingError:
            return None
        if tail:
            return None
        return [(message, payload.is_eof()) for message, payload in messages]

    return asyncio.run(parse())


@settings(max_examples=400)
@given(requests())
@example(b"GET /scim/v2/Users/1 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n\r\n")
@example(b"GET /scim/v2/Users/1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n")
@example(b"GET /scim/v2/Users/1 HTTP/1.1\r\nHost: h\r\nX-A: 1\nX-B: 2\r\n\r\n")
@example(b"GET / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n")
def test_a_head_the_fast_lane_reads_is_read_alike_by_aiohttp(data: bytes) -> None:
    head = parse_head(data)
    if head is None:
        return
    messages = aiohttp_reads(data[: head.size])
    assert messages is not None and len(messages) == 1, data
    message = messages[0][0]
    assert (head.method, head.target) == (message.method, message.path)  # type: ignore[attr-defined]
    names = [(name.lower(), value) for name, value in head.headers.items()]  # aiohttp spells known names its way
    assert names == [(name.lower(), value) for name, value in message.headers.items()]  # type: ignore[attr-defined]


@settings(max_examples=400)
@given(requests())
@example(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab")
@example(b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
@example(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
def test_a_whole_message_is_one_message_to_aiohttp(data: bytes) -> None:
    head = parse_head(data)
    if head is None or not is_whole_message(head, len(data)):
        return
    messages = aiohttp_reads(data)
    assert messages is not None and [True] == [complete for _, complete in messages], data


def test_what_the_fast_lane_accepts() -> None:
    """The shapes it must read (else it would never answer) and some it must leave."""
    plain = b"GET /scim/v2/Users/1 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\nX-Empty:\r\n\r\n"
    head = parse_head(plain)
    assert head is not None and ("GET", "/scim/v2/Users/1", len(plain)) == (head.method, head.target, head.size)
    assert {"Host": "h", "Authorization": "Bearer x", "X-Empty": ""} == dict(head.headers)
    assert is_whole_message(head, len(plain)) and not is_whole_message(head, len(plain) + 1)
    for refused in (
        plain.replace(b"HTTP/1.1", b"HTTP/1.0"),
        plain.replace(b"Host: h\r\n", b""),
        plain.replace(b"X-Empty:", b"X-Empty :"),
        plain.replace(b"X-Empty:", b"X-Empty: \x01"),
        plain[:-2],  # no end of head
    ):
        assert parse_head(refused) is None, refused
    body = b"PATCH /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
    patched = parse_head(body)
    assert patched is not None and is_whole_message(patched, len(body)) and not is_whole_message(patched, len(body) - 1)
    chunked = b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert parse_head(chunked) is None  # a body in chunks: aiohttp's, to the end of the connection
