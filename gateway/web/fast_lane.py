"""
The fast lane: the reads an IdP repeats most, a user by id (`GET /scim/v2/Users/<id>`), a user
by a unique attribute (`GET /scim/v2/Users?filter=userName eq "..."`, with or without Okta's
`startIndex` and `count`) and the pages of an import (`GET /scim/v2/Users?startIndex=101&count=100`),
answered from the connection's bytes, without aiohttp's request, response and task per request,
which cost more than the whole rest of such a lookup (docs/performance.md).

It answers only what it is sure of, and only with 200:

- the bytes received are exactly one complete request head (`parse_head`): a GET in HTTP/1.1,
  its target and header lines in plain printable ASCII, one Host, and none of the headers that
  change how a request is framed or answered (HANDED_ON: Content-Length, Transfer-Encoding,
  Connection, Expect, If-None-Match, Content-Encoding, ...);
- the path is one of those reads, read as aiohttp reads it (the same `URL.build`; a list with
  no parameter but `filter`, `startIndex` and `count`: LIST_PARAMETERS);
- the token is one this process verified lately (`TokenService.verified`: its cache), and the
  users are read on the event loop's own database connection without waiting (SQLite's point
  read, or a page bounded as one: gateway/backend/embedded/backend.py); a coroutine that would
  wait (a page read by OFFSET, a filter on several users) is closed (`_now`) and aiohttp
  answers instead;
- the answer is made by the services the route's handler calls, with the same headers, the same
  access line and the same metrics as the middleware (gateway/web/middlewares.py).

Anything else, an error included, goes to aiohttp as if the fast lane were not there. The
connection (gateway/web/connections.py) takes the fast lane again only once aiohttp has answered
all it was handed, and only if each chunk it handed on was exactly one whole message
(`is_whole_message`): so the two never answer out of order, and a message split across chunks is
aiohttp's to the end of the connection. The connection keeps the requests for the end of the
event loop's round, where they are answered together, their reads from one snapshot of the store
taken after all of them arrived (`reads_together`), and their answers sent together
(`ConnectionGuard.answer_at_end_of_round`). tests/api/test_fast_lane.py holds both paths'
answers to the same bytes.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Coroutine
from contextlib import AbstractContextManager
from email.utils import formatdate
from typing import Any, NamedTuple, TypeVar

import structlog
from aiohttp import web
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.http_parser import SINGLETON_HEADERS
from multidict import CIMultiDict
from yarl import URL

from gateway import metrics
from gateway.scim.errors import ScimError
from gateway.scim.filter.ast import AttrPath, Compare
from gateway.scim.filter.grammar import parse_filter
from gateway.web.http_limits import MAX_FIELD_SIZE, MAX_HEADERS, MAX_REQUEST_LINE
from gateway.web.json_io import SCIM_JSON
from gateway.web.keys import ACCESS_LOG, CONFIG, TOKENS, USERS
from gateway.web.middlewares import SERVES_INTERNAL, access_fields, request_id_of
from gateway.web.routing import SCIM_ROUTER, origin_of
from gateway.web.users import filter_param, search_of

T = TypeVar("T")
log = structlog.get_logger()

# Headers that make aiohttp or the middleware do what the fast lane does not: framing, connection
# handling, conditional requests, a body. A request with any of them is aiohttp's (Transfer-Encoding
# and Upgrade: `parse_head` refuses them already).
HANDED_ON = frozenset(
    {
        "content-length",
        "connection",
        "keep-alive",
        "proxy-connection",
        "expect",
        "te",
        "trailer",
        "if-none-match",
        "if-match",
        "if-modified-since",
        "if-unmodified-since",
        "if-range",
        "range",
        "content-encoding",
        "content-type",
    }
)
# The query parameters of a list the fast lane answers (a sort or a projection is aiohttp's).
LIST_PARAMETERS = frozenset({"filter", "startIndex", "count"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # what `parse_head` reads

# RFC 9112: a request target in origin form (RFC 3986 path and query characters); a field name.
_TARGET = re.compile(r"/[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*")
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class Head(NamedTuple):
    method: str
    target: str
    headers: CIMultiDict[str]
    size: int  # bytes of the head, up to and with its empty line


def parse_head(data: bytes) -> Head | None:
    """
    The request head at the start of `data` when it is one RFC 9112 accepts and no parser could
    read otherwise: HTTP/1.1, an origin-form target, printable ASCII (tabs too), no line folding,
    no bare CR or LF, one Host, no second of a header that may appear once (aiohttp's
    SINGLETON_HEADERS), a body by Content-Length (in digits) if any, no Upgrade, a method SCIM
    uses. None for anything else (then aiohttp reads it).
    """
    end = data.find(b"\r\n\r\n")
    if end < 0 or not data.isascii():
        return None
    text = data[:end].decode("ascii")
    line_end = text.find("\r\n")
    request_line = (text if line_end < 0 else text[:line_end]).split(" ")
    if len(request_line) != 3 or request_line[2] != "HTTP/1.1" or request_line[0] not in METHODS:
        return None
    if _TARGET.fullmatch(request_line[1]) is None:
        return None
    if len(request_line[1]) + 14 > MAX_REQUEST_LINE:
        return None  # aiohttp's 414
    headers: CIMultiDict[str] = CIMultiDict()
    if line_end >= 0:
        block = text[line_end + 2 :]
        if len(block) > MAX_FIELD_SIZE and any(len(line) > MAX_FIELD_SIZE - 8 for line in block.split("\r\n")):
            return None  # aiohttp's 431
        if block.count("\r\n") + 1 >= MAX_HEADERS:
            return None  # aiohttp's 431
        if not block.replace("\r\n", "").replace("\t", " ").isprintable():
            return None  # a control character, a bare CR or LF
        for line in block.split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon or not (name.replace("-", "").isalnum() or _NAME.fullmatch(name)):
                return None  # no colon, folding, a space before the colon
            if name in headers and name.lower() in SINGLETON_HEADERS:
                return None  # a second Host, Content-Length, User-Agent, ...: aiohttp refuses it
            headers.add(name, value.strip(" \t"))
    if "Host" not in headers or "Transfer-Encoding" in headers or "Upgrade" in headers:
        return None  # no Host: a 400; a body in chunks or a switch of protocol: aiohttp's to read
    length = headers.get("Content-Length")
    if length is not None and (not length.isdigit() or len(length) > 10):
        return None  # aiohttp refuses it, or would read a body this does not
    return Head(request_line[0], request_line[1], headers, end + 4)


# The lookup Entra ID and Okta send, `filter=<attribute> eq "<value>"` alone, percent-encoded as
# they encode it (a space as `%20` or `+`, the quotes as `%22`), with a value of letters, digits,
# ".", "_", "~", "-" and "@" (`%40`): nothing in it that yarl's query parsing, the filter grammar or
# `filter_param`'s check would read otherwise, so `lookup_of` reads it to the AST they would give
# (`parse_filter`'s simple comparison) without them. Anything else is read by them.
_LOOKUP = re.compile(r"filter=([A-Za-z][A-Za-z0-9]*)(?:%20|\+)eq(?:%20|\+)%22((?:[A-Za-z0-9._~-]|%40)*)%22")


def lookup_of(query_string: str) -> Compare | None:
    """The filter of a query string that is `_LOOKUP`'s, as `parse_filter` of it decoded; else None."""
    matched = _LOOKUP.fullmatch(query_string)
    if matched is None:
        return None
    name, value = matched.groups()
    return Compare(AttrPath(None, name.lower()), "eq", value.replace("%40", "@"))


def is_whole_message(head: Head, size: int) -> bool:
    """
    Whether the `size` bytes that begin with `head` are exactly one request, head and body: then
    after them a parser stands between two messages, whoever parsed them.
    """
    length = head.headers.get("Content-Length")  # at most one, in digits (`parse_head`)
    return head.size + (0 if length is None else int(length)) == size


class Suspended(Exception):
    """A coroutine the fast lane drove had to wait (a thread's read, a lock): aiohttp answers."""


class FastLane:
    """The fast lane of one listener; the connection calls `answer` with each chunk it receives."""

    def __init__(self, app: web.Application, *, serves: str) -> None:
        self._users = app[USERS]
        self._tokens = app[TOKENS]
        self._config = app[CONFIG]
        self._router = app[SCIM_ROUTER]
        self._access_log = app.get(ACCESS_LOG)
        # Off where it could never answer: no stored documents (the brig backend), no token
        # verified without a read (PostgreSQL, spar's tokens), /scim not served; and without
        # `serve`'s access-line writer (an app made by tests: structlog writes it).
        self.enabled = (
            serves != SERVES_INTERNAL
            and self._access_log is not None
            and self._users.keeps_documents()
            and self._tokens.remembers_verified()
        )

    def reads_together(self) -> AbstractContextManager[None]:
        """A block whose `answer`s read one snapshot of the store (one round's: gateway/web/connections.py)."""
        return self._users.reads_together()

    def answer(self, head: Head, size: int, remote: str | None) -> bytes | None:
        """
        The whole response to the `size` bytes received, which begin with `head`; None when
        aiohttp is to answer them.
        """
        started = time.perf_counter()
        if head.method != "GET" or head.size != size:
            return None
        if not HANDED_ON.isdisjoint(map(str.lower, head.headers.keys())):
            return None
        if len(head.headers.getall("Authorization", ())) > 1:
            return None
        path, _, query_string = head.target.partition("?")
        lookup = lookup_of(query_string) if query_string else None
        # As aiohttp's parser does (a lookup's query is read above, and does not change the path).
        url = URL.build(path=path, query_string="" if lookup else query_string, encoded=True)
        scim_path = self._router.parse(url.path)
        if scim_path is None or scim_path.resource != "Users":
            return None
        if scim_path.resource_id is not None:
            if query_string:
                return None  # a user with a projection
        elif lookup is None and not LIST_PARAMETERS.issuperset(url.query.keys()):
            return None  # a sort, a projection
        token = self._tokens.verified(head.headers.get("Authorization"))
        if token is None:
            return None
        base_url = origin_of(self._config, "http", head.headers["Host"], remote, head.headers) + scim_path.base
        try:
            if scim_path.resource_id is not None:
                found = _now(self._users.get_serialised(token, scim_path.resource_id, base_url=base_url))
                if found is None:
                    return None
                body, version = found
                etag = b"ETag: %s\r\n" % version.encode()
            else:
                if lookup is not None:  # what IdPs look users up with, in the form they send it
                    page = _now(self._users.search_one(token, lookup, base_url=base_url))
                elif len(query := url.query) == 1 and "filter" in query:  # the same in another form
                    text = filter_param(query)  # checked as the route checks it (a NUL: aiohttp's 400)
                    parsed = None if text is None else parse_filter(text)  # from the parser's cache: checked
                    page = None if parsed is None else _now(self._users.search_one(token, parsed, base_url=base_url))
                else:  # a page, or a lookup with its startIndex and count (Okta's)
                    search = search_of(query, self._config.limits)  # read as the route reads it
                    page = _now(self._users.search_page(token, search, base_url=base_url))
                if page is None:
                    return None
                body, etag = page, b""
        except (Suspended, ScimError):
            return None
        except Exception as exc:  # noqa: BLE001 - aiohttp answers it again, as a 500 with a request id if it fails there too
            log.warning("fast_lane_handed_on", error=type(exc).__name__)
            return None
        request_id = request_id_of(head.headers)
        seconds = time.perf_counter() - started
        metrics.observe_request("GET", self._router.template_of(scim_path), 200, token.team, seconds)
        fields = access_fields("GET", url.path, 200, seconds, token, remote, head.headers, self._config)
        self._access_log(request_id, fields)  # type: ignore[misc]  # not None: `enabled`
        rid = request_id.encode()
        return b"".join(
            (
                _OK,
                etag,
                b"Request-Id: %s\r\nX-Request-Id: %s\r\nContent-Length: %d\r\nDate: %s\r\n%s\r\n\r\n"
                % (rid, rid, len(body), http_date(), _SERVER),
                body,
            )
        )


_OK = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\n" % SCIM_JSON.encode()
_SERVER = b"Server: " + SERVER_SOFTWARE.encode()


def _now(coro: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result if it finishes without waiting; else it is closed and Suspended raised."""
    try:
        waited = coro.send(None)
    except StopIteration as done:
        return done.value
    if isinstance(waited, asyncio.Future):
        waited.cancel()  # a thread's job not yet started is skipped (gateway/db/threads.py)
    coro.close()
    raise Suspended


_date: tuple[int, bytes] = (-1, b"")


def http_date() -> bytes:
    """The Date header's value (RFC 9110 IMF-fixdate), formatted once a second, as aiohttp does."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True).encode())
    return _date[1]
