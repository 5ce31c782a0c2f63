"""
Compile a SCIM filter AST (gateway.scim.filter.ast) into an SQL WHERE clause over the `users`
table, so that filtering, sorting and paging happen in the database and use its indexes.

Every value goes in as a bound parameter. Attributes that are not in COLUMNS raise InvalidFilter
naming the attribute and listing the ones that can be filtered on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from gateway.backend.models import format_time
from gateway.scim.errors import InvalidFilter
from gateway.scim.filter.ast import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath

CORE_USER_URN = "urn:ietf:params:scim:schemas:core:2.0:user"


@dataclass(frozen=True, slots=True)
class Column:
    sql: str
    kind: str = "string"  # string | boolean | datetime
    case_exact: bool = False
    stored_lower: bool = False  # values are stored lower-case: fold the operand, compare exactly


COLUMNS: dict[str, Column] = {
    "id": Column("id", case_exact=True),
    "username": Column("handle", stored_lower=True),
    "externalid": Column("external_id", case_exact=True),
    "displayname": Column("display_name"),
    "emails": Column("email"),
    "emails.value": Column("email"),
    "emails.type": Column("email_type"),
    "emails.primary": Column("(email IS NOT NULL)", kind="boolean"),
    "active": Column("(status = 'active')", kind="boolean"),
    "roles": Column("role"),
    "roles.value": Column("role"),
    "meta.created": Column("created_at", kind="datetime", case_exact=True),
    "meta.lastmodified": Column("last_modified", kind="datetime", case_exact=True),
    "name.formatted": Column("json_extract(extra, '$.name.formatted')"),
    "name.givenname": Column("json_extract(extra, '$.name.givenName')"),
    "name.familyname": Column("json_extract(extra, '$.name.familyName')"),
}

SORT_COLUMNS: dict[str, str] = {
    "username": "handle",
    "displayname": "display_name COLLATE NOCASE",
    "meta.created": "created_at",
    "meta.lastmodified": "last_modified",
}

_LIKE = {"co": ("%", "%"), "sw": ("", "%"), "ew": ("%", "")}
_ORDER = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def compile_filter(f: Filter) -> tuple[str, list[object]]:
    """Return (`where` SQL, parameters) for `f`."""
    params: list[object] = []
    return _compile(f, params, prefix=None), params


def _compile(f: Filter, params: list[object], *, prefix: str | None) -> str:
    if isinstance(f, And):
        return f"({_compile(f.left, params, prefix=prefix)} AND {_compile(f.right, params, prefix=prefix)})"
    if isinstance(f, Or):
        return f"({_compile(f.left, params, prefix=prefix)} OR {_compile(f.right, params, prefix=prefix)})"
    if isinstance(f, Not):
        inner = _compile(f.expr, params, prefix=prefix)
        return f"(NOT coalesce({inner}, 0))"
    if isinstance(f, ValuePath):
        if prefix is not None or f.path.sub is not None:
            raise InvalidFilter(f"Nested value filters are not supported ('{f.path.dotted}[...]')")
        column = _column(f.path, None)  # the attribute itself must be known
        # true only when there is a value to match: `emails[not (...)]` needs an email
        return f"({column.sql} IS NOT NULL AND {_compile(f.filter, params, prefix=f.path.attr)})"
    if isinstance(f, Present):
        column = _column(f.path, prefix)
        if column.kind == "boolean":
            return "1"
        return f"({column.sql} IS NOT NULL AND {column.sql} != '')"
    if isinstance(f, Compare):
        return _compare(f, _column(f.path, prefix), params)
    raise InvalidFilter(f"Unsupported filter expression {f!r}")  # pragma: no cover


def _column(path: AttrPath, prefix: str | None) -> Column:
    if path.uri is not None and path.uri != CORE_USER_URN:
        raise InvalidFilter(
            f"Filtering on attributes of schema '{path.uri}' is not supported; "
            "use core User attributes"
        )
    key = path.dotted if prefix is None else f"{prefix}.{path.dotted}"
    column = COLUMNS.get(key)
    if column is None:
        allowed = ", ".join(sorted({k.split('.')[0] for k in COLUMNS} | {"meta.created"}))
        raise InvalidFilter(f"Cannot filter on '{key}'; filterable attributes: {allowed}")
    return column


def _compare(f: Compare, column: Column, params: list[object]) -> str:
    value = f.value
    if column.kind == "boolean":
        return _compare_boolean(f, column, params)
    if value is None:
        if f.op == "eq":
            return f"({column.sql} IS NULL OR {column.sql} = '')"
        if f.op == "ne":
            return f"({column.sql} IS NOT NULL AND {column.sql} != '')"
        raise InvalidFilter(f"Operator '{f.op}' cannot compare '{f.path.dotted}' with null")
    if not isinstance(value, str):
        raise InvalidFilter(f"'{f.path.dotted}' is a string; compare it with a quoted value")
    if column.kind == "datetime":
        value = _normalise_datetime(value, f.path.dotted)
    if column.stored_lower:  # exact comparison with a folded operand keeps the index usable
        value = value.lower()
        column = Column(column.sql, case_exact=True)
    if f.op in _LIKE:
        head, tail = _LIKE[f.op]
        params.append(head + _escape_like(value) + tail)
        if column.case_exact:  # LIKE ignores ASCII case: check where the value sits, exactly
            sql = column.sql
            exact = {
                "co": (f"instr({sql}, ?) > 0", 1),
                "sw": (f"instr({sql}, ?) = 1", 1),
                "ew": (f"substr({sql}, length({sql}) - length(?) + 1) = ?", 2),
            }[f.op]
            params.extend([value] * exact[1])
            return f"({sql} LIKE ? ESCAPE '\\' AND {exact[0]})"
        return f"({column.sql} LIKE ? ESCAPE '\\')"
    params.append(value)
    collate = "" if column.case_exact else " COLLATE NOCASE"
    if f.op == "eq":
        return f"({column.sql} = ?{collate})"
    if f.op == "ne":
        return f"({column.sql} IS NULL OR {column.sql} != ?{collate})"
    return f"({column.sql} {_ORDER[f.op]} ?{collate})"


def _compare_boolean(f: Compare, column: Column, params: list[object]) -> str:
    value = f.value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if not isinstance(value, bool) or f.op not in ("eq", "ne"):
        raise InvalidFilter(
            f"'{f.path.dotted}' is a boolean; use 'eq true', 'eq false', 'ne true' or 'ne false'"
        )
    params.append(1 if value else 0)
    return f"({column.sql} {'=' if f.op == 'eq' else '!='} ?)"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _normalise_datetime(value: str, attr: str) -> str:
    """Bring an ISO 8601 date-time to the stored form (UTC, milliseconds, 'Z')."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidFilter(
            f"'{attr}' needs an ISO 8601 date-time such as \"2026-01-31T12:00:00Z\", got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return format_time(parsed)
