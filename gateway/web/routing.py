"""
SCIM routing with the base-URL quirks real clients need, in one place:

- `/scim/v2/...` and `/scim/...` (some clients append `/v2`, others do not);
- an optional API-version prefix `/vN/` before `scim` (nginz routes it);
- trailing and doubled slashes (`/scim/v2//Users/`);
- a case-insensitive resource segment (`/users`).

One catch-all aiohttp route hands every path to `dispatch`, which normalises it, finds the
handler, answers 404/405 as SCIM errors, and authenticates where the resource needs a token.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from gateway import metrics
from gateway.config import Config
from gateway.provisioning.tokens import bearer_token
from gateway.scim.errors import NotFound, ScimError, Unauthorized
from gateway.store.base import TokenRecord
from gateway.web.keys import AUTH_FAILURES, BASE_URL, CONFIG, RESOURCE_ID, ROUTE, TOKEN, TOKENS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Headers = CIMultiDictProxy[str] | CIMultiDict[str]  # a request's headers: aiohttp's, or the fast lane's

_VERSION = re.compile(r"v[0-9]+")


@dataclass(frozen=True, slots=True)
class Route:
    methods: dict[str, Handler]
    needs_token: bool


@dataclass(frozen=True, slots=True)
class ScimPath:
    base: str  # the base the client used, normalised: "/scim/v2", "/v7/scim"
    resource: str  # canonical resource name: "Users", "ServiceProviderConfig", ...
    resource_id: str | None


class ScimRouter:
    """Handlers by (canonical resource, whether an id follows)."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, bool], Route] = {}
        self._names: dict[str, str] = {}
        self._templates: dict[tuple[str, bool], str] = {}  # the metrics' route label, whatever base was used

    def add(self, resource: str, *, with_id: bool, needs_token: bool, **methods: Handler) -> None:
        self._names[resource.lower()] = resource
        self._templates[(resource, with_id)] = f"/scim/v2/{resource}" + ("/{id}" if with_id else "")
        self._routes[(resource, with_id)] = Route({m.upper(): h for m, h in methods.items()}, needs_token)

    def template_of(self, scim_path: ScimPath) -> str:
        """The route's template, the metrics' label: "/scim/v2/Users/{id}" whatever base the path used."""
        return self._templates[(scim_path.resource, scim_path.resource_id is not None)]

    def parse(self, path: str) -> ScimPath | None:
        if path.startswith("/scim/v2/"):  # the form nearly every request has: no empty segment, no prefix
            written, slash, resource_id = path[9:].partition("/")
            canonical = self._names.get(written.lower())
            if canonical is not None and not slash:
                return ScimPath("/scim/v2", canonical, None)
            if canonical is not None and resource_id and "/" not in resource_id:
                return ScimPath("/scim/v2", canonical, resource_id)
        return self.parse_segments(path)

    def parse_segments(self, path: str) -> ScimPath | None:
        """`parse` for any path: segment by segment."""
        segments = [s for s in path.split("/") if s]
        prefix: list[str] = []
        if segments and _VERSION.fullmatch(segments[0]):
            prefix, segments = segments[:1], segments[1:]
        if not segments or segments[0] != "scim":
            return None
        base = [*prefix, "scim"]
        rest = segments[1:]
        if rest and rest[0] == "v2":
            base.append("v2")
            rest = rest[1:]
        if not rest or len(rest) > 2:
            return None
        resource = self._names.get(rest[0].lower())
        if resource is None:
            return None
        return ScimPath("/" + "/".join(base), resource, rest[1] if len(rest) == 2 else None)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        scim_path = self.parse(request.path)
        route = None if scim_path is None else self._routes.get((scim_path.resource, scim_path.resource_id is not None))
        if scim_path is None or route is None:
            raise NotFound(f"There is no SCIM resource at {request.path}; the base URL is /scim/v2")
        request[ROUTE] = self.template_of(scim_path)
        handler = route.methods.get(request.method)
        if handler is None:
            if request.method == "HEAD" and "GET" in route.methods:
                handler = route.methods["GET"]
            else:
                allowed = ", ".join(sorted(route.methods))
                raise ScimError(
                    f"{request.method} is not allowed on {scim_path.resource}; allowed: {allowed}",
                    status=405,
                    headers={"Allow": allowed},
                )
        if route.needs_token:
            request[TOKEN] = await authenticate(request)
        request[BASE_URL] = origin(request) + scim_path.base
        request[RESOURCE_ID] = scim_path.resource_id or ""
        return await handler(request)


SCIM_ROUTER = web.AppKey("scim_router", ScimRouter)  # the app's, for the fast lane (gateway/web/fast_lane.py)


async def authenticate(request: web.Request) -> TokenRecord:
    """
    The request's token. A failure counts against the client address; past the limit the answer
    is 429 instead of 401. A valid token is served from a throttled address all the same: tokens
    are 256 random bits, so throttling guards the logs and the store, not the secret, and one
    broken IdP must not lock out others behind the same egress address.
    """
    try:
        return await request.app[TOKENS].verify(request.headers.get("Authorization"))
    except Unauthorized:
        metrics.auth_failed("scim", _failure_reason(request.headers.get("Authorization")))
        failures, address = request.app[AUTH_FAILURES], client_address(request)
        retry_after = failures.retry_after(address)
        if retry_after is not None:
            metrics.throttled("scim")
            raise ScimError(
                f"Too many failed authentications from this address; retry in {retry_after} s",
                status=429,
                headers={"Retry-After": str(retry_after)},
            ) from None
        failures.failed(address)
        raise


def _failure_reason(authorization: str | None) -> str:
    """Why a SCIM request's authentication failed, as the metric's bounded label."""
    if not authorization:
        return "missing"
    if bearer_token(authorization) is None:
        return "malformed"  # not `Bearer <token>`
    return "unknown_token"  # never issued, revoked, or mistyped: the store keeps only hashes


def client_address(request: web.Request) -> str:
    """
    The client's address: the peer's, or behind trusted proxies the last X-Forwarded-For entry
    that is not one of them (each proxy appends the address it saw; those left of it are the
    client's word).
    """
    remote = request.remote or ""
    if not from_trusted_proxy(request):
        return remote
    networks = _networks(request.app[CONFIG].trusted_proxies)
    hops = [hop.strip() for hop in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return hop[:64]
        if not any(address in network for network in networks):
            return hop
    return remote


def origin(request: web.Request) -> str:
    """scheme://host as the client sees it: configured, else forwarded by a trusted proxy."""
    return origin_of(request.app[CONFIG], request.scheme, request.host, request.remote, request.headers)


def origin_of(config: Config, scheme: str, host: str, remote: str | None, headers: Headers) -> str:
    """`origin` of a request's parts (the fast lane has no aiohttp request, gateway/web/fast_lane.py)."""
    if config.public_base_url:
        return config.public_base_url.rstrip("/")
    if config.trusted_proxies and _is_trusted(remote, config.trusted_proxies):
        scheme = headers.get("X-Forwarded-Proto", scheme).split(",")[0].strip() or scheme
        host = headers.get("X-Forwarded-Host", host).split(",")[0].strip() or host
    return f"{scheme}://{host}"


def from_trusted_proxy(request: web.Request) -> bool:
    """Whether the request's peer address is in `trusted_proxies` (then its X-Forwarded-* and Z-User count)."""
    cidrs = request.app[CONFIG].trusted_proxies
    return bool(cidrs) and _is_trusted(request.remote, cidrs)


def logged_client_address(remote: str | None, cidrs: tuple[str, ...], headers: Headers) -> str | None:
    """
    The client address the access line shows: the peer's (`remote`), or, when the peer is in
    `cidrs` (`listen.trusted_proxies`), the last X-Forwarded-For entry (else X-Real-IP) that is
    not one of them. Only addresses are taken from the headers, at most MAX_FORWARDED_HOPS of
    them; anything else stops the walk at the hop that wrote it.
    """
    if not cidrs or remote is None or not _is_trusted(remote, cidrs):
        return remote
    forwarded = headers.getall("X-Forwarded-For", ())
    hops = [hop.strip() for hop in ",".join(forwarded).split(",")] if forwarded else []
    if not hops:
        hops = [headers.get("X-Real-IP", "").strip()]
    address = remote
    for hop in reversed(hops[-MAX_FORWARDED_HOPS:]):
        if len(hop) > MAX_ADDRESS_CHARS or not _is_address(hop):
            break
        address = hop
        if not _is_trusted(hop, cidrs):
            break
    return address


MAX_FORWARDED_HOPS = 16
MAX_ADDRESS_CHARS = 45  # the longest textual IPv6 address (with an embedded IPv4 one)


@functools.lru_cache(maxsize=4096)
def _is_trusted(address: str | None, cidrs: tuple[str, ...]) -> bool:
    if address is None:
        return False
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in _networks(cidrs))


@functools.lru_cache(maxsize=4096)
def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)
