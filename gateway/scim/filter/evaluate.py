"""
In-memory evaluation of a parsed SCIM filter against a rendered resource (RFC 7644 §3.4.2.2).

The resource is the JSON-like dict a client would see. Attribute names and schema URNs are matched
case-insensitively (RFC 7643 §2.1); an extension URN selects `resource[urn]`, a core User/Group URN
the top level. A multi-valued attribute matches when any element matches; `emails eq "x"` compares
the elements' `value`. Strings compare case-insensitively unless `case_exact(path)` says otherwise
(RFC 7643 §2.2 caseExact); `gt`/`ge`/`lt`/`le` order strings lexicographically (so ISO 8601 UTC
timestamps such as `meta.created` order correctly) and numbers numerically. Booleans support only
eq/ne, also against the strings "true"/"false" as Entra sends them. Odd data never raises: values
of the wrong type simply do not match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, assert_never

from gateway.scim.filter.ast import And, AttrPath, Compare, Filter, Not, Or, Present, Value, ValuePath

__all__ = ["CORE_SCHEMAS", "DEFAULT_CASE_EXACT", "matches"]

# Dotted, lower-case attribute paths whose string values compare case-sensitively by default.
DEFAULT_CASE_EXACT: frozenset[str] = frozenset({"id", "externalid", "meta.version", "members.value"})

# Schema URNs (lower-case) whose attributes live at the top level of the resource.
CORE_SCHEMAS: frozenset[str] = frozenset(
    {"urn:ietf:params:scim:schemas:core:2.0:user", "urn:ietf:params:scim:schemas:core:2.0:group"}
)

_ORDERING_OPS = frozenset({"gt", "ge", "lt", "le"})
_SUBSTRING_OPS = frozenset({"co", "sw", "ew"})

CaseExact = Callable[[str], bool]


def matches(
    resource: object,
    f: Filter,
    *,
    case_exact: CaseExact = DEFAULT_CASE_EXACT.__contains__,
) -> bool:
    """Whether `resource` satisfies `f`; `case_exact` gets dotted lower-case paths like "meta.version"."""
    if not isinstance(resource, Mapping):
        return False
    return _evaluate(resource, f, "", case_exact)


def _evaluate(node: Mapping[str, Any], f: Filter, prefix: str, case_exact: CaseExact) -> bool:
    """`f` against `node`; `prefix` is the dotted path of `node` inside a value path ("emails.")."""
    if isinstance(f, Compare):
        return _compare(node, f, prefix, case_exact)
    if isinstance(f, Present):
        return any(_is_present(value) for value in _values(node, f.path))
    if isinstance(f, And):
        return _evaluate(node, f.left, prefix, case_exact) and _evaluate(node, f.right, prefix, case_exact)
    if isinstance(f, Or):
        return _evaluate(node, f.left, prefix, case_exact) or _evaluate(node, f.right, prefix, case_exact)
    if isinstance(f, Not):
        return not _evaluate(node, f.expr, prefix, case_exact)
    if isinstance(f, ValuePath):
        inner_prefix = f"{prefix}{f.path.dotted}."
        return any(
            isinstance(element, Mapping) and _evaluate(element, f.filter, inner_prefix, case_exact)
            for element in _values(node, f.path)
        )
    assert_never(f)


# -- attribute lookup ---------------------------------------------------------------------------


def _values(node: Mapping[str, Any], path: AttrPath) -> list[Any]:
    """Every non-null value at `path` below `node`, with multi-valued attributes flattened."""
    base = _schema_node(node, path.uri)
    if base is None:
        return []
    values = _flatten(_get(base, path.attr))
    if path.sub is None:
        return values
    return [sub for value in values if isinstance(value, Mapping) for sub in _flatten(_get(value, path.sub))]


def _schema_node(node: Mapping[str, Any], uri: str | None) -> Mapping[str, Any] | None:
    if uri is None or uri in CORE_SCHEMAS:
        return node
    extension = _get(node, uri)
    return extension if isinstance(extension, Mapping) else None


def _get(node: Mapping[str, Any], name: str) -> Any:
    """`node[name]` with the key matched case-insensitively; None when absent."""
    for key, value in node.items():
        if isinstance(key, str) and key.lower() == name:
            return value
    return None


def _flatten(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [element for element in value if element is not None]
    return [value]


def _is_present(value: Any) -> bool:
    """`pr`: not null, not an empty string, list or object."""
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value) > 0
    return value is not None


# -- comparison ---------------------------------------------------------------------------------


def _compare(node: Mapping[str, Any], f: Compare, prefix: str, case_exact: CaseExact) -> bool:
    raw = _values(node, f.path)
    if f.value is None:  # `eq null` means "not present", `ne null` means "present"
        present = any(_is_present(value) for value in raw)
        return {"eq": not present, "ne": present}.get(f.op, False)
    dotted = prefix + f.path.dotted
    candidates = raw
    if f.path.sub is None and any(isinstance(value, Mapping) for value in raw):
        # `emails eq "x"` compares the elements' "value" sub-attribute.
        dotted += ".value"
        candidates = [_get(v, "value") if isinstance(v, Mapping) else v for v in raw]
        candidates = [value for value in candidates if value is not None]
    if not candidates:
        return f.op == "ne"
    exact = case_exact(dotted)
    if f.op == "ne":
        return any(not _equal(value, f.value, exact) for value in candidates)
    return any(_test(f.op, value, f.value, exact) for value in candidates)


def _test(op: str, actual: Any, expected: Value, exact: bool) -> bool:
    if op == "eq":
        return _equal(actual, expected, exact)
    if op in _SUBSTRING_OPS:
        return _substring(op, actual, expected, exact)
    if op in _ORDERING_OPS:
        order = _order(actual, expected, exact)
        if order is None:
            return False
        return {"gt": order > 0, "ge": order >= 0, "lt": order < 0, "le": order <= 0}[op]
    return False


def _equal(actual: Any, expected: Value, exact: bool) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        left, right = _as_bool(actual), _as_bool(expected)
        return left is not None and left == right
    if isinstance(actual, str) and isinstance(expected, str):
        return _fold(actual, exact) == _fold(expected, exact)
    if _is_number(actual) and _is_number(expected):
        return bool(actual == expected)
    return False


def _substring(op: str, actual: Any, expected: Value, exact: bool) -> bool:
    if not (isinstance(actual, str) and isinstance(expected, str)):
        return False
    haystack, needle = _fold(actual, exact), _fold(expected, exact)
    if op == "co":
        return needle in haystack
    return haystack.startswith(needle) if op == "sw" else haystack.endswith(needle)


def _order(actual: Any, expected: Value, exact: bool) -> int | None:
    """-1/0/1 comparing `actual` with `expected`; None when they cannot be ordered."""
    if isinstance(actual, str) and isinstance(expected, str):
        left: Any = _fold(actual, exact)
        right: Any = _fold(expected, exact)
    elif _is_number(actual) and _is_number(expected):
        left, right = actual, expected
    else:
        return None
    if left < right:
        return -1
    if left > right:
        return 1
    return 0 if left == right else None  # NaN orders with nothing


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fold(text: str, exact: bool) -> str:
    return text if exact else text.lower()
