"""
The PATCH `path` (RFC 7644 §3.5.2, ABNF in Figure 1):

    PATH = attrPath / valuePath [subAttr]
    attrPath = [URI ":"] ATTRNAME *1subAttr        e.g. name.givenName, urn:…:User:department
    valuePath = attrPath "[" valFilter "]"         e.g. emails[type eq "work"].value

Attribute names are case-insensitive: `PatchPath` keeps each name as written (used when a new key
has to be created) and exposes the lower-cased form for matching existing keys.

A known schema URN (core User/Group, enterprise User, and the `extension_urns` the caller
serves) is matched as a prefix; any other URN prefix is everything before the last ':' that
precedes the first '['. The core URNs mean "top level" and are dropped. A path that is nothing but
a known schema URN, or a URN ending in a version (`urn:example:ext:1.0`), addresses the whole
extension object: it becomes a top-level attribute named by the URN (`PatchPath.is_schema`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.scim.errors import InvalidPath, InvalidValue, ScimError
from gateway.scim.filter.ast import Filter
from gateway.scim.filter.grammar import parse_filter, refuse_unstorable
from gateway.scim.schemas import GROUP_URN, USER_URN

ENTERPRISE_USER_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
_CORE_URNS = frozenset({USER_URN.lower(), GROUP_URN.lower()})
_SCIM_URNS = (USER_URN, GROUP_URN, ENTERPRISE_USER_URN)  # RFC 7643 §4.1-§4.3
# Keys a client may echo in a path-less value; ignored rather than rejected (Okta).
_ECHOED = frozenset({"meta", "schemas"})

# RFC 7643 §2.1 ATTRNAME, plus the `$ref` sub-attribute of references (members.$ref).
_NAME = re.compile(r"\$?[A-Za-z][A-Za-z0-9_-]*")
_VERSION = re.compile(r"\d+(\.\d+)*")  # a schema URN's version segment, e.g. 2.0


@dataclass(frozen=True, slots=True)
class PatchPath:
    """`[uri:]attr[filter][.sub]`; `uri` is None for top-level (core schema) attributes."""

    text: str
    uri: str | None
    attr: str
    sub: str | None = None
    filter: Filter | None = None

    @property
    def attr_key(self) -> str:
        return self.attr.lower()

    @property
    def sub_key(self) -> str | None:
        return None if self.sub is None else self.sub.lower()

    @property
    def is_schema(self) -> bool:
        """True for a path naming a whole schema extension object (`urn:…:2.0:User`)."""
        return self.uri is None and self.attr_key.startswith("urn:")


def is_core_urn(text: str) -> bool:
    """The core User or Group schema URN: the top level of a resource."""
    return text.lower() in _CORE_URNS


def parse_path(text: str, *, extension_urns: Iterable[str] = ()) -> PatchPath:
    """
    Parse a PATCH path; raises InvalidPath naming the path and what is wrong with it.
    `extension_urns`: the schema extensions the resource may carry, known as prefixes.
    """
    if not isinstance(text, str):
        raise InvalidPath(f"'path' must be a string, not {type(text).__name__}.")
    stripped = text.strip()
    if not stripped:
        raise InvalidPath("'path' is empty; omit it to target the whole resource.")
    uri = _urn_prefix(stripped, (*_SCIM_URNS, *extension_urns))
    if uri is not None and len(uri) == len(stripped):
        return PatchPath(stripped, None, stripped)
    if uri is not None and uri.count(":") < 2:
        raise InvalidPath(f"Path '{stripped}' does not start with a schema URN such as '{USER_URN}'.")
    rest = stripped if uri is None else stripped[len(uri) + 1 :]
    if uri is not None and is_core_urn(uri):
        uri = None
    attr, filter_text, sub = _split_attr(stripped, rest)
    parsed = _parse_value_filter(stripped, filter_text) if filter_text is not None else None
    return PatchPath(stripped, uri, attr, sub, parsed)


def _urn_prefix(text: str, known: tuple[str, ...]) -> str | None:
    """The schema URN a path starts with, as written (the whole text for a bare URN), or None."""
    lowered = text.lower()
    if not lowered.startswith("urn:"):
        return None
    for urn in known:
        if lowered == urn.lower() or lowered.startswith(urn.lower() + ":"):
            return text[: len(urn)]
    head = text.split("[", 1)[0]
    if head == text and _VERSION.fullmatch(head.rpartition(":")[2]):
        return text
    return head.rpartition(":")[0]  # attribute names have no ':', so the URN ends at the last one


def _split_attr(path: str, rest: str) -> tuple[str, str | None, str | None]:
    """`attr[filter].sub` → (attr, filter text or None, sub or None)."""
    match = _NAME.match(rest)
    if match is None:
        raise InvalidPath(
            f"Path '{path}' does not name an attribute "
            "(expected e.g. 'userName', 'name.givenName' or 'emails[type eq \"work\"].value')."
        )
    attr, pos = match.group(), match.end()
    filter_text: str | None = None
    if rest.startswith("[", pos):
        end = _closing_bracket(path, rest, pos)
        filter_text, pos = rest[pos + 1 : end], end + 1
    sub: str | None = None
    if rest.startswith(".", pos):
        sub_match = _NAME.match(rest, pos + 1)
        if sub_match is None:
            raise InvalidPath(f"Path '{path}' has no valid sub-attribute name after '.'.")
        sub, pos = sub_match.group(), sub_match.end()
    if pos != len(rest):
        raise InvalidPath(
            f"Path '{path}' has unexpected text '{rest[pos:]}'; a path is attr, attr.sub, "
            "attr[filter] or attr[filter].sub, optionally prefixed by a schema URN."
        )
    return attr, filter_text, sub


def _closing_bracket(path: str, rest: str, start: int) -> int:
    """Index of the ']' closing the '[' at `start`, skipping quoted strings."""
    in_string = escaped = False
    for index in range(start + 1, len(rest)):
        char = rest[index]
        if escaped:
            escaped = False
        elif char == "\\" and in_string:
            escaped = True
        elif char == '"':
            in_string = not in_string
        elif char == "]" and not in_string:
            return index
    raise InvalidPath(f"Path '{path}' has a '[' without a matching ']'.")


def _parse_value_filter(path: str, text: str) -> Filter:
    try:
        return refuse_unstorable(parse_filter(text))  # a filter on members or emails of any store
    except ScimError as exc:
        raise InvalidPath(f"Path '{path}' has an invalid value filter [{text}]: {exc.detail}") from exc


def parse_op_path(raw: object, *, extension_urns: Iterable[str] = ()) -> PatchPath | None:
    """An operation's `path`: None when absent, empty, or the core schema URN (whole resource)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    path = parse_path(raw, extension_urns=extension_urns)  # type: ignore[arg-type]  # non-strings are rejected there
    return None if path.is_schema and is_core_urn(path.attr) else path


def pathless_paths(value: object, *, extension_urns: Iterable[str] = ()) -> list[tuple[PatchPath | None, object]]:
    """
    The (path, value) pairs of a path-less add/replace value, whose keys are paths themselves
    (`displayName`, `name.givenName`, `urn:…:User:department`). Echoed `meta`/`schemas` keys give
    path None: callers skip them (Okta sends them back).
    """
    if not isinstance(value, Mapping):
        raise InvalidValue(
            "Without a 'path', 'value' must be an object of attributes, "
            f'e.g. {{"active": false}}; got {type(value).__name__}.'
        )
    pairs: list[tuple[PatchPath | None, object]] = []
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidValue(f"Attribute name {key!r} in 'value' is not a string.")
        pairs.append((None if key.lower() in _ECHOED else parse_path(key, extension_urns=extension_urns), item))
    return pairs
