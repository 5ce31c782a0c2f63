"""
The table of user attributes: one row per attribute of a Wire user as SCIM shows it, read by
everything that needs to know one (docs/architecture.md, "Where does a change go"):

- the stored row: the columns of `users` and of the brig mirror's `brig_users` (same names), in
  `WireUser`'s field order (`STORED`), and how a value is kept in its column;
- the weak ETag: the fields a client can see change (`VERSIONED`, content_version in wire_user.py);
- the renderer (provisioning/render.py): the attributes rendered as the field's value (`RENDERED`);
- the filter compiler and the sort (backend/sql/filters.py): `filter` and `sort`;
- the brig mapping (backend/brig/mapping.py): the attributes brig keeps as a plain value under one
  key, written with `PUT /i/users/:uid/<route>` (`BRIG_FIELDS`);
- the projection: attributes returned "always" (RFC 7643 §7) whatever `attributes` asks.

A row without `field` describes a SCIM path computed from other fields (`active` from the
status, `emails.primary`, the parts of `name` kept in `extra`): filterable, never stored itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from gateway.scim.filter.ast import Compare, Filter
from gateway.scim.schemas import USER_URN


@dataclass(frozen=True, slots=True)
class Column:
    """How a filter compares an attribute, as SQL over the user's (or group's) row."""

    sql: str
    kind: Literal["string", "boolean", "datetime", "exists"] = "string"
    case_exact: bool = False
    stored_lower: bool = False  # values are stored lower-case: fold the operand, compare exactly
    # kind "exists": `sql` is a condition with one `?` for the operand (eq and ne only, e.g. a
    # membership lookup); `present` is the condition `pr` compiles to.
    present: str = "TRUE"
    json_path: str | None = None  # the member of the JSON text in `sql` that holds the value
    unique: bool = False  # no two users of a team share a value (a unique index): `eq` finds one at most


@dataclass(frozen=True, slots=True)
class Sort:
    """How `sortBy` orders by an attribute."""

    sql: str
    name: str  # the SCIM attribute, for error details
    folded: bool = False  # ignore case


@dataclass(frozen=True, slots=True)
class BrigField:
    """A plain value brig keeps under `key` in its User JSON, set by `PUT /i/users/:uid/<route>` {key: value}."""

    route: str
    key: str
    read: Callable[[str], str] | None = None  # brig's value as the gateway keeps it


@dataclass(frozen=True, slots=True, kw_only=True)
class UserAttribute:
    scim: str  # the SCIM path, as rendered: "userName", "emails.value", "meta.created"
    field: str | None = None  # the WireUser field holding it; None: computed from other fields
    column: str | None = None  # its column in `users` and `brig_users`; None: not stored itself
    versioned: bool = False  # part of the content a client sees change (the weak ETag)
    rendered: bool = False  # rendered as the field's value under `scim` (the others by code)
    filter: Column | None = None  # None: a filter naming it is refused, listing the filterable ones
    aliases: tuple[str, ...] = ()  # further paths a filter may use for it ("emails" for "emails.value")
    sort: Sort | None = None
    returned: Literal["always", "default"] = "default"
    fixed: bool = False  # set when the user is created, never rewritten
    brig: BrigField | None = None  # None: brig does not keep it, or it takes a call of its own
    to_column: Callable[[Any], Any] | None = None  # the stored form, when not the value itself
    from_column: Callable[[Any], Any] | None = None


def _language(locale: str) -> str:
    """brig's locale (`de` or `de-DE`) as the language the gateway keeps."""
    return str(locale).split("-")[0]


def _rich_info_to_column(rich_info: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(f) for f in rich_info], ensure_ascii=False)


def _rich_info_from_column(text: str) -> tuple[tuple[str, str], ...]:
    return () if text == "[]" else tuple((t, v) for t, v in json.loads(text))


USER_ATTRIBUTES: tuple[UserAttribute, ...] = (
    UserAttribute(
        scim="id",
        field="id",
        column="id",
        rendered=True,
        returned="always",
        fixed=True,
        filter=Column("id", case_exact=True, unique=True),
    ),
    UserAttribute(scim="team", field="team", column="team", fixed=True),  # the token's team; not shown
    UserAttribute(
        scim="userName",
        field="handle",
        column="handle",
        versioned=True,
        rendered=True,
        filter=Column("handle", stored_lower=True, unique=True),
        sort=Sort("handle", "userName"),
        brig=BrigField("handle", "handle"),
    ),
    UserAttribute(
        scim="displayName",
        field="display_name",
        column="display_name",
        versioned=True,
        rendered=True,
        filter=Column("display_name"),
        sort=Sort("display_name", "displayName", folded=True),
        brig=BrigField("name", "name"),
    ),
    UserAttribute(
        scim="externalId",
        field="external_id",
        column="external_id",
        versioned=True,
        rendered=True,
        filter=Column("external_id", case_exact=True, unique=True),
    ),
    UserAttribute(
        scim="emails.value", field="email", column="email", versioned=True, filter=Column("email"), aliases=("emails",)
    ),
    UserAttribute(
        scim="emails.type", field="email_type", column="email_type", versioned=True, filter=Column("email_type")
    ),
    UserAttribute(
        scim="active",
        field="status",
        column="status",
        versioned=True,
        filter=Column("(status = 'active')", kind="boolean"),
    ),
    UserAttribute(
        scim="roles.value", field="role", column="role", versioned=True, filter=Column("role"), aliases=("roles",)
    ),
    UserAttribute(
        scim="preferredLanguage",
        field="locale",
        column="locale",
        versioned=True,
        rendered=True,
        brig=BrigField("locale", "locale", read=_language),
    ),
    UserAttribute(scim="idp", field="idp", column="idp", fixed=True),  # the token's SAML IdP; not shown
    UserAttribute(
        scim="richInfo",
        field="rich_info",
        column="rich_info",
        versioned=True,
        to_column=_rich_info_to_column,
        from_column=_rich_info_from_column,
    ),
    UserAttribute(scim="extra", field="extra", column="extra", versioned=True),  # kept core attributes
    UserAttribute(
        scim="meta.created",
        field="created",
        column="created_at",
        fixed=True,
        filter=Column("created_at", kind="datetime", case_exact=True),
        sort=Sort("created_at", "meta.created"),
    ),
    UserAttribute(
        scim="meta.lastModified",
        field="last_modified",
        column="last_modified",
        filter=Column("last_modified", kind="datetime", case_exact=True),
        sort=Sort("last_modified", "meta.lastModified"),
    ),
    UserAttribute(scim="meta.version", field="version", column="version"),
    # computed from the fields above: filterable only
    UserAttribute(scim="emails.primary", filter=Column("(email IS NOT NULL)", kind="boolean")),
    UserAttribute(scim="name.formatted", filter=Column("extra", json_path="name.formatted")),
    UserAttribute(scim="name.givenName", filter=Column("extra", json_path="name.givenName")),
    UserAttribute(scim="name.familyName", filter=Column("extra", json_path="name.familyName")),
)

STORED = tuple(a for a in USER_ATTRIBUTES if a.column is not None)
"""The stored attributes, in `WireUser`'s field order (a test holds the two together)."""
USER_COLUMNS = ", ".join(a.column for a in STORED if a.column)
VERSIONED = tuple(a.field for a in STORED if a.versioned and a.field)
RENDERED = tuple((a.scim, a.field) for a in USER_ATTRIBUTES if a.rendered and a.field)
BRIG_FIELDS = tuple((a.field, a.brig) for a in USER_ATTRIBUTES if a.brig is not None and a.field)
ALWAYS_RETURNED = frozenset(a.scim for a in USER_ATTRIBUTES if a.returned == "always")

FILTERS: dict[str, Column] = {
    path.lower(): a.filter for a in USER_ATTRIBUTES if a.filter is not None for path in (a.scim, *a.aliases)
}
"""Filterable attributes by lower-case dotted SCIM path (the filter compiler's key)."""
SORTS: dict[str, Sort] = {a.scim.lower(): a.sort for a in USER_ATTRIBUTES if a.sort is not None}


_STORED_FIELDS = tuple((a.field, a.to_column) for a in STORED if a.field)


def column_values(user: object) -> tuple[object, ...]:
    """The values of USER_COLUMNS for `user` (a WireUser), each in its stored form."""
    return tuple(encode(getattr(user, name)) if encode else getattr(user, name) for name, encode in _STORED_FIELDS)


def matches_at_most_one(f: Filter | None) -> TypeGuard[Compare]:
    """
    Whether `f` is `<attribute> eq "value"` for an attribute no two users of a team share (a
    unique column): Entra's and Okta's lookups.
    """
    if not isinstance(f, Compare) or f.op != "eq" or f.path.sub is not None:
        return False
    column = FILTERS.get(f.path.attr) if f.path.uri in (None, USER_URN.lower()) else None
    return column is not None and column.unique
