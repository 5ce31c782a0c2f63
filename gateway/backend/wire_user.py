"""
Wire users as the gateway sees them: plain values exchanged with every `Backend`, the weak ETag
over a user's content, and the order of a user's groups.

A `WireUser` has already passed Wire's rules (provisioning/rules.py); backends store and return
it, they do not validate it again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.backend.user_attributes import VERSIONED, matches_at_most_one
from gateway.scim.filter.ast import Filter

Status = Literal["active", "suspended", "pending-invitation"]
Role = Literal["owner", "admin", "member", "partner"]
RichInfo = tuple[tuple[str, str], ...]  # Wire's rich info: (type, value) fields, in order

# The two SCIM extension schemas Wire's rich info travels under, in SCIM resources and in brig's
# own JSON alike (brig's `RichInfoAssocList` / `RichInfoMapAndList`, libs/wire-api/src/Wire/API/User/RichInfo.hs).
RICH_INFO_MAP_URN = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"  # {"Department": "Sales"}
RICH_INFO_LIST_URN = "urn:wire:scim:schemas:profile:1.0"  # {"richInfo": {"version": 0, "fields": [{type, value}]}}


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFields:
    """What a SCIM client can set on a Wire user (full state, as a PUT gives it)."""

    handle: str
    display_name: str
    external_id: str
    email: str | None = None
    email_type: str | None = None
    role: Role = "member"
    locale: str = "en"
    rich_info: RichInfo = ()
    extra: str = "{}"  # JSON object of kept core attributes (e.g. {"name": {...}}), keys sorted
    active: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUser:
    """A user to create; `idp` set means a SAML user (active at once), else an invitation."""

    id: str
    fields: UserFields
    idp: str | None = None


# Not frozen and not keyword-only, unlike our other models: a list page builds 100 of these. A
# frozen dataclass's __init__ sets each field through object.__setattr__ (about 6x a plain one),
# and passing 17 fields by keyword costs 3-4x passing them by position, which kw_only forbids
# (together: 4.5 us a user before, 1.2 us now). Build it with keywords all the same, except from a
# database row in column order (gateway.backend.sql.user_rows.py); treat it as immutable: `replace`.
@dataclass(slots=True)
class WireUser:
    id: str
    team: str
    handle: str
    display_name: str
    external_id: str
    email: str | None
    email_type: str | None
    status: Status
    role: Role
    locale: str
    idp: str | None
    rich_info: RichInfo
    extra: str
    created: str  # ISO 8601 UTC with milliseconds, e.g. 2026-04-11T10:00:00.123Z
    last_modified: str
    version: str = field(default="")  # weak ETag over the content; see content_version
    # (group id, displayName) of the groups it belongs to, sorted; read-only, not in `version`
    groups: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UserQuery:
    """A list request: filter AST (None: everyone), sort, window."""

    filter: Filter | None = None
    sort_by: str | None = None  # lower-case dotted SCIM path, e.g. "username", "meta.created"
    descending: bool = False
    offset: int = 0
    limit: int = 100


def is_point_query(query: UserQuery) -> bool:
    """Whether `query` finds at most one user by a unique attribute, from the first: a point read."""
    return query.offset == 0 and query.limit > 0 and query.sort_by is None and matches_at_most_one(query.filter)


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    users: tuple[WireUser, ...]


def content_version(fields: UserFields | WireUser, status: Status) -> str:
    """
    Weak ETag over everything a client can see change (the table's versioned attributes, in its
    order, with `status` for the status); equal content gives an equal version.
    """
    content = json.dumps(
        [status if name == "status" else getattr(fields, name) for name in VERSIONED],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return 'W/"' + hashlib.sha256(content.encode()).hexdigest()[:32] + '"'


def content_of(fields: UserFields) -> dict[str, Any]:
    """The user's content that `fields` give, by WireUser field (all but `active`: it makes the status)."""
    return {name: getattr(fields, name) for name in _CONTENT}


def fields_of(user: WireUser) -> UserFields:
    """What a client would PUT to leave `user` as it is."""
    return UserFields(**{name: getattr(user, name) for name in _CONTENT}, active=user.status != "suspended")


def next_status(current: Status, active: bool) -> Status:
    """spar's mapping of `active`: a pending invitation stays pending; others follow `active`."""
    if current == "pending-invitation":
        return current
    return "active" if active else "suspended"


def sorted_groups(groups: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """A user's (id, displayName) groups by displayName ignoring case, then id (a user is in few)."""
    if len(groups) == 1:  # the common case, on every user of a list page
        return (tuple(groups[0]),)  # type: ignore[return-value]  # a 2-tuple row of the database
    return tuple(sorted(((gid, name) for gid, name in groups), key=lambda g: (g[1].casefold(), g[0])))


_CONTENT = tuple(f.name for f in dataclasses.fields(UserFields) if f.name != "active")
