"""
SCIM PATCH (RFC 7644 §3.5.2) as pure functions over JSON-like dicts.

`parse_patch` validates a PatchOp request body into `PatchOp`s; `apply_patch` applies them in
order to a deep copy of a resource and returns the copy (the request is atomic: on any error
nothing is returned and the input is untouched). Every error is a `ScimError` whose detail starts
with `Operations[i]:` (0-based) when it concerns one operation. Both take the `extension_urns` the
resource may carry, known as path prefixes (`patch_path`); apply parses path-less values' keys.

Client dialects accepted on purpose:

* `op` in any case (Entra sends `Replace`, `Add`, `Remove`); the `Operations` key in any case.
* Path-less add/replace whose value keys are themselves paths: `name.givenName`,
  `urn:…:enterprise:2.0:User:employeeNumber`, or a whole extension URN with an object value
  (Entra's flag-style requests); Okta's `{"op": "replace", "value": {"active": false}}`.
* Okta echoing `id` (equal to the resource's id), `meta` and `schemas` in path-less values:
  ignored. A different `id`, or any other read-only attribute, is a Mutability error.
* Entra's group dialect `{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}`:
  removes only the listed members (matched on `value`), never the whole list.
* Add and replace on `attr[filter].sub` (Entra: `emails[type eq "work"].value`) when no element
  matches: a new element is built from the filter's `eq` comparisons plus the sub-attribute.
  RFC 7644 asks for `noTarget` on replace; Entra expects the value to be created. `noTarget` is
  raised only when the filter has no `eq` comparison to build an element from.

Also per RFC 7643 §2.5 / RFC 7644 §3.5.2: assigning null or [] unassigns an attribute; a value
given `"primary": true` clears `primary` on the other values of that attribute. Value coercion
(e.g. "True"/"False" strings) is left to the caller.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.scim.errors import InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget, ScimError
from gateway.scim.filter.ast import And, Compare, Filter
from gateway.scim.filter.evaluate import DEFAULT_CASE_EXACT, matches
from gateway.scim.patch_path import PatchPath, is_core_urn, parse_op_path, pathless_paths

_T = TypeVar("_T")

PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OPS = ("add", "replace", "remove")
DEFAULT_MULTI_VALUED = frozenset(
    {
        "emails",
        "phonenumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509certificates",
        "groups",
        "members",
    }
)
DEFAULT_READ_ONLY = frozenset({"id", "meta", "schemas", "groups"})
# Multi-valued attributes whose values are identified by their `value` alone (references).
_IDENTIFIED_BY_VALUE = frozenset({"members", "groups"})


@dataclass(frozen=True, slots=True)
class PatchOp:
    """One operation: `op` is "add", "replace" or "remove"; `path` None targets the resource."""

    op: str
    path: PatchPath | None
    value: Any = None


@dataclass(frozen=True, slots=True)
class _Rules:
    multi_valued: frozenset[str]
    read_only: frozenset[str]
    extension_urns: tuple[str, ...]


# --- parsing --------------------------------------------------------------------------------


def parse_patch(body: Any, *, extension_urns: Iterable[str] = ()) -> tuple[PatchOp, ...]:
    """Validate a PatchOp request body (RFC 7644 §3.5.2) and return its operations in order."""
    if not isinstance(body, Mapping):
        raise InvalidSyntax("The PATCH body must be a JSON object with 'schemas' and 'Operations'.")
    _check_schemas(body)
    found, operations = _lookup(body, "Operations")
    if not found:
        raise InvalidSyntax("The PATCH body has no 'Operations' list.")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("'Operations' must be a non-empty list of operations.")
    extensions = tuple(extension_urns)
    return tuple(_at_index(index, _parse_op, raw, extensions) for index, raw in enumerate(operations))


def _check_schemas(body: Mapping[str, Any]) -> None:
    found, schemas = _lookup(body, "schemas")
    if not found or not isinstance(schemas, list):
        raise InvalidSyntax(f'The PATCH body needs "schemas": ["{PATCH_OP_URN}"].')
    if not any(isinstance(s, str) and s.lower() == PATCH_OP_URN.lower() for s in schemas):
        raise InvalidValue(f"'schemas' of a PATCH body must contain '{PATCH_OP_URN}'.")


def _parse_op(raw: Any, extension_urns: tuple[str, ...]) -> PatchOp:
    if not isinstance(raw, Mapping):
        raise InvalidSyntax("An operation must be an object with 'op', 'path' and 'value'.")
    has_op, op = _lookup(raw, "op")
    if not has_op:
        raise InvalidSyntax("An operation has no 'op'; use one of 'add', 'replace' or 'remove'.")
    if not isinstance(op, str) or op.lower() not in OPS:
        raise InvalidSyntax(f"Unknown op {op!r}; use one of 'add', 'replace' or 'remove'.")
    op = op.lower()
    path = parse_op_path(_lookup(raw, "path")[1], extension_urns=extension_urns)
    has_value, value = _lookup(raw, "value")
    if op == "remove" and path is None:
        raise NoTarget("'remove' needs a 'path' naming the attribute or values to remove.")
    if op != "remove" and not has_value:
        where = f"on path '{path.text}'" if path else "without a path"
        raise InvalidValue(f"No value was provided for '{op}' {where}; add a 'value'.")
    if op != "remove" and path is None:
        pathless_paths(value, extension_urns=extension_urns)  # validate the keys now, with this index
    return PatchOp(op, path, value)


# --- applying -------------------------------------------------------------------------------


def apply_patch(
    resource: Mapping[str, Any],
    ops: Sequence[PatchOp],
    *,
    multi_valued: frozenset[str] = DEFAULT_MULTI_VALUED,
    read_only: frozenset[str] = DEFAULT_READ_ONLY,
    extension_urns: Iterable[str] = (),
) -> dict[str, Any]:
    """Apply `ops` in order to a deep copy of `resource` and return it; `resource` is unchanged."""
    result: dict[str, Any] = copy.deepcopy(dict(resource))
    rules = _Rules(
        frozenset(n.lower() for n in multi_valued), frozenset(n.lower() for n in read_only), tuple(extension_urns)
    )
    for index, op in enumerate(ops):
        _at_index(index, _apply_op, result, op, rules)
    return result


def _apply_op(resource: dict[str, Any], op: PatchOp, rules: _Rules) -> None:
    if op.op not in OPS:
        raise InvalidSyntax(f"Unknown op {op.op!r}; use one of 'add', 'replace' or 'remove'.")
    if op.path is not None:
        _check_writable(op.path, rules)
        _apply_path(resource, op.op, op.path, op.value, rules)
    elif op.op == "remove":
        raise NoTarget("'remove' needs a 'path' naming the attribute or values to remove.")
    else:
        _apply_pathless(resource, op.op, op.value, rules)


def _apply_pathless(resource: dict[str, Any], op: str, value: Any, rules: _Rules) -> None:
    for path, item in pathless_paths(value, extension_urns=rules.extension_urns):
        if path is None:
            continue
        if path.uri is None and path.attr_key == "id" and path.sub is None and path.filter is None:
            _check_same_id(resource, item)
        elif path.is_schema and is_core_urn(path.attr):
            _apply_pathless(resource, op, item, rules)
        else:
            _check_writable(path, rules)
            _apply_path(resource, op, path, item, rules)


def _check_same_id(resource: Mapping[str, Any], value: Any) -> None:
    if _sub_value(resource, "id") != value or value is None:
        raise Mutability(f"'id' is read-only: the value {value!r} does not match this resource's id.")


def _check_writable(path: PatchPath, rules: _Rules) -> None:
    if path.uri is None and path.attr_key in rules.read_only:
        raise Mutability(f"'{path.attr}' is read-only and cannot be changed (path '{path.text}').")


def _apply_path(resource: dict[str, Any], op: str, path: PatchPath, value: Any, rules: _Rules) -> None:
    if path.is_schema and op != "remove" and value is not None and not isinstance(value, Mapping):
        raise InvalidValue(f"'{path.attr}' is a schema extension; its value must be an object.")
    container = _container(resource, path, create=op != "remove")
    if container is None:
        return
    if path.filter is not None:
        _apply_to_values(container, op, path, value, rules)
    elif path.sub is not None:
        _apply_sub(container, op, path, value, rules)
    elif op == "remove":
        _remove_attr(container, path, value, rules)
    else:
        _assign(container, path.attr, value, op, rules)
    if path.uri is not None and not container:
        _delete(resource, path.uri)


def _container(resource: dict[str, Any], path: PatchPath, *, create: bool) -> dict[str, Any] | None:
    """The object holding `path.attr`: the resource, or its extension object for a URN path."""
    if path.uri is None:
        return resource
    key = _find_key(resource, path.uri)
    if key is None or resource[key] is None:
        if not create:
            return None
        key = key or path.uri
        resource[key] = {}
    container = resource[key]
    if not isinstance(container, dict):
        raise InvalidPath(f"'{key}' is not an object, so path '{path.text}' cannot be used.")
    return container


def _apply_sub(container: dict[str, Any], op: str, path: PatchPath, value: Any, rules: _Rules) -> None:
    """`attr.sub` without a filter: on a complex attribute, or on every value of a multi-valued one."""
    assert path.sub is not None
    key = _find_key(container, path.attr)
    parent = None if key is None else container[key]
    if parent is None:
        if op == "remove":
            return
        key = key or path.attr
        parent = container[key] = [] if path.attr_key in rules.multi_valued else {}
    if isinstance(parent, list):
        _apply_to_values(container, op, path, value, rules)
    elif not isinstance(parent, dict):
        raise InvalidPath(
            f"'{key}' is not a complex attribute, so path '{path.text}' cannot be used; use path '{path.attr}' instead."
        )
    elif op == "remove":
        _delete(parent, path.sub)
        if not parent:
            _delete(container, path.attr)
    else:
        _assign(parent, path.sub, value, op, rules)


def _apply_to_values(container: dict[str, Any], op: str, path: PatchPath, value: Any, rules: _Rules) -> None:
    """`attr[filter]`, `attr[filter].sub`, or `attr.sub` on a multi-valued attribute."""
    found = _find_key(container, path.attr)
    items = None if found is None else container[found]
    if items is None:
        if op == "remove":
            return
        items = []
    key = found or path.attr
    if not isinstance(items, list):
        raise InvalidPath(f"'{key}' is not multi-valued, so path '{path.text}' cannot select values.")
    if path.sub is None and op != "remove" and not isinstance(value, Mapping):
        raise InvalidValue(f"Path '{path.text}' selects complex values; 'value' must be an object.")
    selected = [item for item in items if isinstance(item, dict) and _selects(path, item)]
    if op == "remove":
        if path.sub is None:
            items = [item for item in items if not any(item is s for s in selected)]
        else:
            for item in selected:
                _delete(item, path.sub)
    else:
        if not selected:
            selected = [_new_value(path)]
            items.append(selected[0])
        for item in selected:
            for name, part in value.items() if path.sub is None else [(path.sub, value)]:
                _assign(item, name, part, op, rules)
        _single_primary(items, selected)
    _store(container, key, items)


def _selects(path: PatchPath, item: Mapping[str, Any]) -> bool:
    """Does the value filter select `item`? Case-exactness as for `attr.sub` (members.value)."""

    def case_exact(dotted: str) -> bool:
        return f"{path.attr_key}.{dotted}" in DEFAULT_CASE_EXACT

    return path.filter is None or matches(item, path.filter, case_exact=case_exact)


def _new_value(path: PatchPath) -> dict[str, Any]:
    """A value for `attr[filter]…` when none matches, built from the filter's `eq` comparisons."""
    fields = {} if path.filter is None else _equalities(path.filter)
    if not fields and path.filter is not None:
        raise NoTarget(
            f"No value of '{path.attr}' matches the filter in path '{path.text}', and the filter "
            "has no 'eq' comparison to create one from."
        )
    return fields


def _equalities(f: Filter) -> dict[str, Any]:
    if isinstance(f, Compare) and f.op == "eq" and f.path.uri is None and f.path.sub is None:
        return {} if f.value is None else {f.path.attr: f.value}
    if isinstance(f, And):
        return _equalities(f.left) | _equalities(f.right)
    return {}


def _remove_attr(container: dict[str, Any], path: PatchPath, value: Any, rules: _Rules) -> None:
    key = _find_key(container, path.attr)
    if key is None:
        return
    existing = container[key]
    if value is not None and _is_multi(key, existing, rules):
        targets = value if isinstance(value, list) else [value]
        kept = [item for item in _as_list(existing) if not any(_is_target(item, t) for t in targets)]
        _store(container, key, kept)
    else:
        del container[key]


def _is_target(item: Any, target: Any) -> bool:
    """Does `item` match one entry of a remove `value` list (matched on `value` when given)?"""
    item_value = _sub_value(item, "value")
    if isinstance(target, Mapping):
        target_value = _sub_value(target, "value")
        return item_value == target_value if target_value is not None else _same(item, target)
    return item == target or (item_value is not None and item_value == target)


def _assign(container: dict[str, Any], name: str, value: Any, op: str, rules: _Rules) -> None:
    """add/replace `name` in `container`: append to multi-valued, merge complex, else set."""
    if not isinstance(name, str):
        raise InvalidValue(f"Attribute name {name!r} in 'value' is not a string.")
    key = _find_key(container, name) or name
    existing = container.get(key)
    if _is_multi(key, existing, rules):
        new = _clean(_as_list(value))
        if op == "replace":
            _store(container, key, new)
            return
        items = _as_list(existing)
        added = _append_unique(items, new, identified_by_value=key.lower() in _IDENTIFIED_BY_VALUE)
        _single_primary(items, added)
        _store(container, key, items)
    elif isinstance(value, Mapping) and isinstance(existing, dict):
        for sub, part in value.items():  # RFC 7644 §3.5.2.3: sub-attributes not given are kept
            _assign(existing, sub, part, op, rules)
    else:
        _store(container, key, _clean(value))


def _append_unique(items: list[Any], new: list[Any], *, identified_by_value: bool) -> list[Any]:
    added: list[Any] = []
    for value in new:
        if any(_same(item, value, identified_by_value=identified_by_value) for item in items):
            continue
        added.append(value)
        items.append(value)
    return added


def _same(a: Any, b: Any, *, identified_by_value: bool = False) -> bool:
    """Equal values, ignoring null sub-attributes (Entra's `"$ref": null`)."""
    if identified_by_value and _sub_value(a, "value") is not None:
        return _sub_value(a, "value") == _sub_value(b, "value")
    return _clean(a) == _clean(b)


def _clean(value: Any) -> Any:
    """A deep copy without null sub-attributes or elements (null means unassigned, RFC 7643 §2.5)."""
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value if v is not None]
    return copy.deepcopy(value)


def _single_primary(items: list[Any], changed: list[Any]) -> None:
    """A value set `"primary": true` makes the other values of the attribute non-primary."""
    if not any(_sub_value(item, "primary") is True for item in changed):
        return
    for item in items:
        if not any(item is c for c in changed) and _sub_value(item, "primary") is True:
            item[_find_key(item, "primary") or "primary"] = False


# --- small helpers --------------------------------------------------------------------------


def _find_key(container: Mapping[str, Any], name: str) -> str | None:
    """The existing key of `container` equal to `name` ignoring case, or None."""
    if name in container:
        return name
    lower = name.lower()
    return next((k for k in container if isinstance(k, str) and k.lower() == lower), None)


def _sub_value(item: Any, name: str) -> Any:
    if not isinstance(item, Mapping):
        return None
    key = _find_key(item, name)
    return None if key is None else item[key]


def _is_multi(key: str, existing: Any, rules: _Rules) -> bool:
    return key.lower() in rules.multi_valued or isinstance(existing, list)


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _store(container: dict[str, Any], key: str, value: Any) -> None:
    """Set `key`; null or an empty list unassigns it (RFC 7643 §2.5)."""
    if value is None or (isinstance(value, list) and not value):
        container.pop(key, None)
    else:
        container[key] = value


def _delete(container: dict[str, Any], name: str) -> None:
    key = _find_key(container, name)
    if key is not None:
        del container[key]


def _lookup(mapping: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    """(found, value) for a key matched case-insensitively."""
    key = _find_key(mapping, name)
    return (False, None) if key is None else (True, mapping[key])


def _at_index(index: int, func: Callable[..., _T], *args: Any) -> _T:
    """Call `func`, prefixing the detail of any ScimError with `Operations[index]: `."""
    try:
        return func(*args)
    except ScimError as exc:
        detail = f"Operations[{index}]: {exc.detail}"
        raise type(exc)(detail, status=exc.status, scim_type=exc.scim_type, headers=exc.headers) from exc
    except RecursionError as exc:
        raise InvalidValue(f"Operations[{index}]: the value is nested too deeply.") from exc
