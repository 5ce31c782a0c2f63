"""
A SCIM PATCH of a Group (RFC 7644 §3.5.2) as edits the backend applies in place
(gateway.backend.wire_group.GroupEdit), never as a rewritten member list: adding or removing one member
stays one row whatever the group's size. Pure: the body is validated by `scim.patch.parse_patch`,
this module only translates the parsed operations.

Dialects accepted on purpose (docs/clients.md §1.8, §2.9):

* `add` on `members` with one or several `{"value": id}` objects; `$ref` null or absent, `type`,
  `display` ignored. Several operations per request.
* `remove` on `members[value eq "id"]` (Entra's flag dialect, Okta), or on `members` with a value
  list (Entra's default dialect): removes only the listed members. `remove` on `members` without
  a value removes every member (RFC 7644 §3.5.2.2).
* `replace` on `members`: the new whole member list.
* `replace` on `displayName`, and Okta's path-less `replace {"id": <this id>, "displayName": …}`.
* `externalId`: add, replace, remove. Other attributes and extension URNs are ignored, as on Users.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.backend.wire_group import AddMembers, GroupEdit, RemoveMembers, Rename, ReplaceMembers, SetExternalId
from gateway.provisioning.rules import MAX_EXTERNAL_ID_BYTES, storable
from gateway.scim.errors import InvalidPath, InvalidValue, Mutability, ScimError
from gateway.scim.filter.ast import Compare, Filter, Or
from gateway.scim.patch import PatchOp
from gateway.scim.patch_path import PatchPath, is_core_urn, pathless_paths

MAX_DISPLAY_NAME = 4000  # characters, as Wire's UserGroupName (Range 1 4000); see docs/limits.md
_READ_ONLY = frozenset({"id", "meta", "schemas"})


@dataclass(frozen=True, slots=True)
class RemoveWhere:
    """Remove the members a value filter selects; the caller resolves it against the member list."""

    filter: Filter


PatchEdit = GroupEdit | RemoveWhere


def group_edits(ops: Sequence[PatchOp], *, group_id: str) -> tuple[PatchEdit, ...]:
    """The edits that `ops` make to the group `group_id`, in order; errors name the operation."""
    edits: list[PatchEdit] = []
    for index, op in enumerate(ops):
        try:
            if op.path is None:
                edits.extend(_pathless_edits(op.op, op.value, group_id))
            else:
                edits.extend(_path_edits(op.op, op.path, op.value))
        except ScimError as exc:
            raise type(exc)(
                f"Operations[{index}]: {exc.detail}",
                status=exc.status,
                scim_type=exc.scim_type,
                headers=exc.headers,
            ) from exc
    return tuple(edits)


def validate_display_name(value: Any) -> str:
    """Wire's user group name: a string of 1 to 4000 characters, not only blanks."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("displayName is required: the name of the Wire user group, 1 to 4000 characters")
    if len(value) > MAX_DISPLAY_NAME:
        raise InvalidValue(
            f"displayName has {len(value)} characters; a Wire user group name has at most {MAX_DISPLAY_NAME}"
        )
    return storable(value, where="displayName")


def validate_external_id(value: Any) -> str | None:
    """An optional non-empty string; null unassigns it."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidValue("externalId must be a non-empty string, or null to remove it")
    return storable(value, where="externalId", max_bytes=MAX_EXTERNAL_ID_BYTES)  # as a user's


def member_ids(value: Any) -> tuple[str, ...]:
    """
    User ids from a `members` value: a list of `{"value": id}` objects (or one object; plain id
    strings are accepted too). UUIDs are brought to their canonical form; duplicates are dropped.
    """
    items = [] if value is None else value if isinstance(value, list) else [value]
    ids: list[str] = []
    for index, item in enumerate(items):
        raw = _member_value(item) if isinstance(item, Mapping) else item
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidValue(
                f"members[{index}] needs a 'value' holding the id of a user, e.g. "
                '{"value": "2819c223-7f76-453a-919d-413861904646"}'
            )
        ids.append(canonical_id(storable(raw, where=f"members[{index}].value", max_bytes=MAX_EXTERNAL_ID_BYTES)))
    return tuple(dict.fromkeys(ids))


def canonical_id(text: str) -> str:
    """A UUID in its canonical lower-case form; any other text unchanged but stripped."""
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return text.strip()


def _member_value(item: Mapping[str, Any]) -> Any:
    return next((v for k, v in item.items() if isinstance(k, str) and k.lower() == "value"), None)


def _pathless_edits(op: str, value: Any, group_id: str) -> Iterator[PatchEdit]:
    for path, item in pathless_paths(value):
        if path is None:
            continue  # echoed meta/schemas (Okta)
        if path.uri is None and path.attr_key == "id" and path.sub is None and path.filter is None:
            if not isinstance(item, str) or canonical_id(item) != group_id:
                raise Mutability(f"'id' is read-only: the value {item!r} does not match this group's id.")
            continue
        if path.is_schema and is_core_urn(path.attr):
            yield from _pathless_edits(op, item, group_id)
            continue
        yield from _path_edits(op, path, item)


def _path_edits(op: str, path: PatchPath, value: Any) -> Iterator[PatchEdit]:
    if path.is_schema or path.uri is not None:
        return  # extension objects and attributes (Microsoft's Group URN): nothing Wire keeps
    attr = path.attr_key
    if attr in _READ_ONLY:
        raise Mutability(f"'{path.attr}' is read-only and cannot be changed (path '{path.text}').")
    if attr == "members":
        yield from _member_edits(op, path, value)
    elif attr in ("displayname", "externalid"):
        if path.filter is not None or path.sub is not None:
            raise InvalidPath(f"'{path.attr}' is a simple attribute; use the path '{path.attr}' alone.")
        if attr == "externalid":
            yield SetExternalId(None if op == "remove" else validate_external_id(value))
        elif op == "remove":
            raise InvalidValue("displayName is required and cannot be removed; replace it instead.")
        else:
            yield Rename(validate_display_name(value))


def _member_edits(op: str, path: PatchPath, value: Any) -> Iterator[PatchEdit]:
    if path.filter is not None:
        if op != "remove" or path.sub is not None:
            raise InvalidPath(
                f"Path '{path.text}' can only be used to remove members; add members with "
                "'add' on path 'members', or replace the list with 'replace' on 'members'."
            )
        ids = _ids_selected(path.filter)
        yield RemoveWhere(path.filter) if ids is None else RemoveMembers(ids)
    elif path.sub is not None:
        raise InvalidPath(
            f"'{path.text}' cannot be changed on its own; use the path 'members' with "
            '[{"value": "<user id>"}] to add, remove or replace members.'
        )
    elif op == "add":
        yield AddMembers(member_ids(value))
    elif op == "replace":
        yield ReplaceMembers(member_ids(value))
    elif value is None:
        yield ReplaceMembers(())  # RFC 7644 §3.5.2.2: no filter and no value removes them all
    else:
        yield RemoveMembers(member_ids(value))  # Entra: only the listed members, never all


def _ids_selected(f: Filter) -> tuple[str, ...] | None:
    """The ids of `value eq "id" [or value eq "id2" …]`, or None for any other filter."""
    if isinstance(f, Compare):
        if f.op == "eq" and f.path.uri is None and f.path.dotted == "value" and isinstance(f.value, str):
            return (canonical_id(f.value),)
        return None
    if isinstance(f, Or):
        left, right = _ids_selected(f.left), _ids_selected(f.right)
        return None if left is None or right is None else tuple(dict.fromkeys(left + right))
    return None
