"""
Compile a SCIM filter AST (gateway.scim.filter.ast) into an SQL WHERE clause over the `users`
table (or another resource's table, described by a `Table`), so that filtering, sorting and paging
happen in the database and use its indexes.

Every value goes in as a bound parameter. User attributes come from the table of user attributes
(gateway/backend/user_attributes.py); attributes that are not in it raise InvalidFilter
naming the attribute and listing the ones that can be filtered on. The SQL is written for the
`Dialect` given (gateway/db/dialect.py): SQLite's by default, PostgreSQL's for a PostgreSQL store.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.backend.user_attributes import FILTERS, SORTS, Column, Sort
from gateway.clock import format_time
from gateway.db.dialect import SQLITE, Dialect
from gateway.scim.errors import InvalidFilter
from gateway.scim.filter.ast import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath
from gateway.scim.schemas import USER_URN


def order_by(
    sort_by: str | None,
    descending: bool,
    *,
    columns: Mapping[str, Sort] = SORTS,
    dialect: Dialect = SQLITE,
    resource: str = "users",
) -> str:
    """
    The ORDER BY terms of a search: the `sortBy` column (if any), then `seq` (creation order),
    each DESC when descending. InvalidFilter, listing the sortable attributes, for another one.
    """
    terms = ["seq"]
    if sort_by is not None:
        sort = columns.get(sort_by)
        if sort is None:
            allowed = ", ".join(s.name for s in columns.values())
            raise InvalidFilter(f"Cannot sort {resource} by '{sort_by}'; sortable: {allowed}")
        terms.insert(0, dialect.order_folded(sort.sql) if sort.folded else sort.sql)
    return ", ".join(f"{term} DESC" for term in terms) if descending else ", ".join(terms)


@dataclass(frozen=True, slots=True)
class Table:
    """The filterable attributes of one resource type, keyed by lower-case dotted SCIM path."""

    columns: Mapping[str, Column]
    core_urn: str  # lower-case; paths may carry it as a prefix
    resource: str  # for error details: "User", "Group"


USER_TABLE = Table(FILTERS, USER_URN.lower(), "User")

_LIKE = {"co": ("%", "%"), "sw": ("", "%"), "ew": ("%", "")}
_ORDER = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def compile_filter(f: Filter, table: Table = USER_TABLE, dialect: Dialect = SQLITE) -> tuple[str, list[object]]:
    """Return (`where` SQL, parameters) for `f` over `table`'s columns, in `dialect`'s SQL."""
    params: list[object] = []
    return _compile(f, params, prefix=None, table=table, dialect=dialect), params


def _compile(f: Filter, params: list[object], *, prefix: str | None, table: Table, dialect: Dialect) -> str:
    if isinstance(f, (And, Or)):
        joiner = " AND " if isinstance(f, And) else " OR "
        parts = (_compile(side, params, prefix=prefix, table=table, dialect=dialect) for side in (f.left, f.right))
        return f"({joiner.join(parts)})"
    if isinstance(f, Not):
        inner = _compile(f.expr, params, prefix=prefix, table=table, dialect=dialect)
        return f"(NOT coalesce({inner}, FALSE))"
    if isinstance(f, ValuePath):
        if prefix is not None or f.path.sub is not None:
            raise InvalidFilter(f"Nested value filters are not supported ('{f.path.dotted}[...]')")
        column = _column(f.path, None, table, dialect)  # the attribute itself must be known
        inner = _compile(f.filter, params, prefix=f.path.attr, table=table, dialect=dialect)
        if column.kind == "exists":
            return f"({inner})"
        # true only when there is a value to match: `emails[not (...)]` needs an email
        return f"({column.sql} IS NOT NULL AND {inner})"
    if isinstance(f, Present):
        column = _column(f.path, prefix, table, dialect)
        if column.kind in ("boolean", "exists"):
            return f"({column.present})"
        return f"({column.sql} IS NOT NULL AND {column.sql} != '')"
    if isinstance(f, Compare):
        return _compare(f, _column(f.path, prefix, table, dialect), params, dialect)
    raise InvalidFilter(f"Unsupported filter expression {f!r}")  # pragma: no cover


def _column(path: AttrPath, prefix: str | None, table: Table, dialect: Dialect) -> Column:
    if path.uri is not None and path.uri != table.core_urn:
        raise InvalidFilter(
            f"Filtering on attributes of schema '{path.uri}' is not supported; use core {table.resource} attributes"
        )
    key = path.dotted if prefix is None else f"{prefix}.{path.dotted}"
    column = table.columns.get(key)
    if column is None:
        allowed = ", ".join(sorted({k.split(".")[0] for k in table.columns} | {"meta.created"}))
        raise InvalidFilter(f"Cannot filter on '{key}'; filterable attributes: {allowed}")
    if column.json_path is not None:
        return dataclasses.replace(column, sql=dialect.json_member(column.sql, column.json_path), json_path=None)
    return column


def _compare(f: Compare, column: Column, params: list[object], dialect: Dialect) -> str:
    value = f.value
    if column.kind == "boolean":
        return _compare_boolean(f, column, params)
    if column.kind == "exists":
        if f.op not in ("eq", "ne") or not isinstance(value, str):
            raise InvalidFilter(f"'{f.path.dotted}' can only be compared with 'eq' or 'ne' and a quoted value")
        params.append(value)
        return f"({column.sql})" if f.op == "eq" else f"(NOT {column.sql})"
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
        column = _case_exact(column.sql)
    if f.op in _LIKE:
        head, tail = _LIKE[f.op]
        params.append(head + _escape_like(value) + tail)
        like = f"{column.sql} {dialect.like_fold} ? ESCAPE '\\'"
        if column.case_exact:  # LIKE ignores (ASCII) case: check where the value sits, exactly
            sql, position = column.sql, dialect.position
            exact = {
                "co": (f"{position}({sql}, ?) > 0", 1),
                "sw": (f"{position}({sql}, ?) = 1", 1),
                "ew": (f"substr({sql}, length({sql}) - length(?) + 1) = ?", 2),
            }[f.op]
            params.extend([value] * exact[1])
            return f"({like} AND {exact[0]})"
        return f"({like})"
    params.append(value)
    op = {"eq": "=", "ne": "!="}.get(f.op) or _ORDER[f.op]
    compared = f"{column.sql} {op} ?" if column.case_exact else dialect.fold(column.sql, op)
    if f.op == "ne":
        return f"({column.sql} IS NULL OR {compared})"
    return f"({compared})"


@functools.lru_cache(maxsize=64)  # a few columns; a Column costs a dozen fields to make
def _case_exact(sql: str) -> Column:
    return Column(sql, case_exact=True)


def _compare_boolean(f: Compare, column: Column, params: list[object]) -> str:
    value = f.value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if not isinstance(value, bool) or f.op not in ("eq", "ne"):
        raise InvalidFilter(f"'{f.path.dotted}' is a boolean; use 'eq true', 'eq false', 'ne true' or 'ne false'")
    params.append(value)  # a bool: SQLite stores it as 1 or 0, PostgreSQL compares booleans
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
        parsed = parsed.replace(tzinfo=UTC)
    return format_time(parsed)
