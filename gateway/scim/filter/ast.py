"""
The filter AST (RFC 7644 §3.4.2.2). Plain frozen dataclasses; parsed by `grammar.parse_filter`,
evaluated in memory by `evaluate.matches`, and compiled to SQL by the backends that can.

Attribute names are case-insensitive in SCIM, so the parser stores them lower-cased; a schema URN
prefix, when written, is kept (lower-cased) in `AttrPath.uri`.
"""

from __future__ import annotations

from dataclasses import dataclass

# A comparison value as JSON gives it: string, number, boolean or null.
Value = str | int | float | bool | None

COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})


@dataclass(frozen=True, slots=True)
class AttrPath:
    """`[uri:]attr[.sub]`, e.g. `name.givenName` → AttrPath(None, "name", "givenname")."""

    uri: str | None
    attr: str
    sub: str | None = None

    @property
    def dotted(self) -> str:
        """`attr` or `attr.sub`, lower-case, without the URN."""
        return self.attr if self.sub is None else f"{self.attr}.{self.sub}"


@dataclass(frozen=True, slots=True)
class Compare:
    """`path op value`; op is one of COMPARE_OPS, lower-case."""

    path: AttrPath
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class Present:
    """`path pr`."""

    path: AttrPath


@dataclass(frozen=True, slots=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Not:
    expr: Filter


@dataclass(frozen=True, slots=True)
class ValuePath:
    """
    `attr[filter]`: true when one element of the multi-valued `path` matches `filter`, whose
    paths are relative to the element (`emails[type eq "work"]` → filter on `type`).

    Entra's `emails[type eq "work"].value eq "x"` is parsed as
    `ValuePath(emails, And(type eq "work", value eq "x"))`.
    """

    path: AttrPath
    filter: Filter


Filter = Compare | Present | And | Or | Not | ValuePath
