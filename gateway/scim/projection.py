"""
The `attributes` and `excludedAttributes` query parameters (RFC 7644 §3.4.2.5, §3.9).

`parse_attribute_list` turns a parameter value into canonical paths; `project` applies them to a
rendered resource (a JSON-like dict) and returns a new one.

Canonical paths are lower-case. A core-schema URN prefix (User or Group) is removed:
`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName` → `name.givenname`. An extension URN
is kept: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value` →
`urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value`, and the URN alone
names the whole extension object. The caller names the extensions it serves, so that a URN whose
last segment is no attribute name (a version, `…:1.0`) is known as a whole.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final

from gateway.scim.errors import InvalidPath
from gateway.scim.schemas import GROUP_URN, USER_URN

_CORE_URNS: Final = (USER_URN.lower(), GROUP_URN.lower())

# RFC 7644 §3.10 ATTRNAME *1subAttr, written lower-case; "$ref" is a reserved sub-attribute name
# (RFC 7643 §2.4).
_ATTR_PATH: Final = re.compile(r"[a-z][a-z0-9_-]*(\.([a-z][a-z0-9_-]*|\$ref))?")
_URN: Final = re.compile(r"urn:[a-z0-9][a-z0-9-]*(:[a-z0-9()+,.=@;$_!*'%/?#-]+)+")

# A selection names parts of an object: each lower-case key maps to None (the whole value) or to
# a further selection inside that value (inside each element, for a multi-valued attribute).
Selection = dict[str, "Selection | None"]

_NOTHING: Final = object()


def parse_attribute_list(text: str | None, *, extension_urns: Iterable[str] = ()) -> tuple[str, ...]:
    """
    Parse an `attributes`/`excludedAttributes` value into canonical paths, without duplicates.

    Entries are separated by commas, with optional spaces around them; each is
    `[urn:]attribute[.subAttribute]`. `extension_urns` are the schema extensions the resource may
    carry: each is matched as a prefix, and alone names the whole extension. None or an empty
    value gives (). Raises InvalidPath naming the first entry that is not a path.
    """
    if text is None or not text.strip():
        return ()
    extensions = tuple(urn.lower() for urn in extension_urns)
    paths: list[str] = []
    for entry in text.split(","):
        path = _canonical_path(entry.strip(), extensions)
        if path not in paths:
            paths.append(path)
    return tuple(paths)


def _canonical_path(entry: str, extensions: tuple[str, ...]) -> str:
    lowered = entry.lower()
    if not lowered:
        raise InvalidPath("The attribute list has an empty entry.")
    if not lowered.startswith("urn:"):
        return _checked_attr_path(lowered, entry)
    for urn in _CORE_URNS:
        if lowered == urn:
            raise InvalidPath(f"{entry!r} names a schema; name one of its attributes instead.")
        if lowered.startswith(urn + ":"):
            return _checked_attr_path(lowered[len(urn) + 1 :], entry)
    for urn in extensions:
        if lowered == urn:
            return urn
        if lowered.startswith(urn + ":"):
            return f"{urn}:{_checked_attr_path(lowered[len(urn) + 1 :], entry)}"
    # Another extension: its URN ends at the last colon (attribute names have none).
    urn, _, attr_path = lowered.rpartition(":")
    if not _URN.fullmatch(urn):
        raise _not_a_path(entry)
    return f"{urn}:{_checked_attr_path(attr_path, entry)}"


def _checked_attr_path(attr_path: str, entry: str) -> str:
    if not _ATTR_PATH.fullmatch(attr_path):
        raise _not_a_path(entry)
    return attr_path


def _not_a_path(entry: str) -> InvalidPath:
    return InvalidPath(f"{entry!r} is not an attribute path ([urn:]attribute[.subAttribute]).")


def project(
    resource: Mapping[str, Any],
    *,
    attributes: Sequence[str] = (),
    excluded: Sequence[str] = (),
    always: frozenset[str] = frozenset({"id", "schemas"}),
    never: frozenset[str] = frozenset({"password"}),
) -> dict[str, Any]:
    """
    Return a new resource holding the attributes a client asked for (RFC 7644 §3.4.2.5).

    Args:
        resource: the full resource; it is not changed, and the result shares nothing with it.
        attributes: paths to keep (as from `parse_attribute_list`; other spellings are
            lower-cased and a core-schema URN prefix is removed). `name.givenName` keeps
            `{"name": {"givenName": ...}}`; `emails.value` keeps `value` in every element; an
            extension URN keeps the whole extension object and `<urn>:<attr>` one key in it.
            `meta` is kept only when asked for (`meta`, `meta.created`, ...).
        excluded: paths to drop, in the same forms; everything else is kept.
        always: top-level names kept whatever is asked (returned "always", RFC 7643 §7).
        never: top-level names always removed (returned "never"); they win over `always`.

    RFC 7644 says `attributes` and `excludedAttributes` are mutually exclusive; when both are
    given, `attributes` wins and `excluded` is ignored. Names match the resource's keys
    case-insensitively; the result keeps the resource's spelling. An attribute left with nothing
    in it (an empty object or list) by the selection is omitted (RFC 7643 §2.5: unassigned).
    """
    always_names = {name.lower() for name in always}
    never_names = {name.lower() for name in never}
    if attributes:
        return _include_top_level(resource, _selection(resource, attributes), always_names, never_names)
    selection = _selection(resource, excluded)
    for name in always_names:
        selection.pop(name, None)
    return _drop_in_object(resource, selection, never_names)


# --- building a selection -------------------------------------------------------------------------


def _selection(resource: Mapping[str, Any], paths: Sequence[str]) -> Selection:
    selection: Selection = {}
    for path in paths:
        segments = _segments(resource, path)
        if segments:
            _add(selection, segments)
    return selection


def _segments(resource: Mapping[str, Any], path: str) -> list[str]:
    """`name.givenname` → ["name", "givenname"]; `<urn>:attr.sub` → [urn, attr, sub]; [] if unknown."""
    lowered = _without_core_urn(path.strip().lower())
    if not lowered.startswith("urn:"):
        return lowered.split(".", 1)
    extension = _extension_key(resource, lowered)
    if extension is None:
        return []
    rest = lowered[len(extension) + 1 :]
    return [extension, *rest.split(".", 1)] if rest else [extension]


def _without_core_urn(path: str) -> str:
    for urn in _CORE_URNS:
        if path.startswith(urn + ":"):
            return path[len(urn) + 1 :]
    return path


def _extension_key(resource: Mapping[str, Any], path: str) -> str | None:
    """The lower-cased URN key of `resource` that `path` names or starts with; the longest wins."""
    matches = [
        key.lower() for key in resource if ":" in key and (path == key.lower() or path.startswith(key.lower() + ":"))
    ]
    return max(matches, key=len, default=None)


def _add(selection: Selection, segments: list[str]) -> None:
    head, *rest = segments
    if not rest:
        selection[head] = None
        return
    inner = selection.setdefault(head, {})
    if inner is not None:  # None: the whole value is already selected
        _add(inner, rest)


# --- attributes: keep what is selected ------------------------------------------------------------


def _include_top_level(
    resource: Mapping[str, Any], selection: Selection, always: Collection[str], never: Collection[str]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in resource.items():
        name = key.lower()
        if name in never:
            continue
        kept = copy.deepcopy(value) if name in always else _kept(value, selection, name)
        if kept is not _NOTHING:
            result[key] = kept
    return result


def _kept(value: Any, selection: Selection, name: str) -> Any:
    """What `selection[name]` keeps of `value`, or _NOTHING."""
    if name not in selection:
        return _NOTHING
    inner = selection[name]
    if inner is None:
        return copy.deepcopy(value)
    if isinstance(value, Mapping):
        return _include_in_object(value, inner) or _NOTHING
    if isinstance(value, list):
        elements = [_include_in_object(item, inner) for item in value if isinstance(item, Mapping)]
        return [element for element in elements if element] or _NOTHING
    return _NOTHING  # a sub-attribute of a simple value selects nothing


def _include_in_object(obj: Mapping[str, Any], selection: Selection) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in obj.items():
        kept = _kept(value, selection, key.lower())
        if kept is not _NOTHING:
            result[key] = kept
    return result


# --- excludedAttributes: drop what is selected ----------------------------------------------------


def _drop_in_object(
    obj: Mapping[str, Any], selection: Selection, never: Collection[str] = frozenset()
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in obj.items():
        name = key.lower()
        if name in never:
            continue
        if name not in selection:
            result[key] = copy.deepcopy(value)
            continue
        inner = selection[name]
        if inner is None:
            continue
        remaining = _remaining(value, inner)
        if remaining is not _NOTHING:
            result[key] = remaining
    return result


def _remaining(value: Any, selection: Selection) -> Any:
    """`value` without the selected sub-attributes; _NOTHING if that empties it."""
    if isinstance(value, Mapping):
        remaining = _drop_in_object(value, selection)
        return remaining if remaining or not value else _NOTHING
    if isinstance(value, list):
        elements = [_remaining(item, selection) for item in value]
        kept = [element for element in elements if element is not _NOTHING]
        return kept if kept or not value else _NOTHING
    return copy.deepcopy(value)  # a sub-attribute of a simple value removes nothing
