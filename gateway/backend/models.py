"""
Wire users as the gateway sees them: plain frozen values exchanged with every `Backend`.

A `WireUser` has already passed Wire's rules (provisioning/rules.py); backends store and return
it, they do not validate it again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal, Protocol

Status = Literal["active", "suspended", "pending-invitation"]
Role = Literal["owner", "admin", "member", "partner"]
RichInfo = tuple[tuple[str, str], ...]


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
# database row in column order (gateway/backend/embedded.py); treat it as immutable: `replace`.
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

    filter: object | None = None  # gateway.scim.filter.ast.Filter
    sort_by: str | None = None  # lower-case dotted SCIM path, e.g. "username", "meta.created"
    descending: bool = False
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    users: tuple[WireUser, ...]


class DocumentRenderer(Protocol):
    """
    Renders a user as the stored JSON text a list page is made of (see UserDocument), for a
    backend that keeps one with each user. `key` names the rendering: stored documents made under
    another key (older code) are not used, but rendered again.
    """

    key: str

    def render(self, user: WireUser) -> str: ...


# One user of a DocumentPage: (id, document, groups). `document` is what the DocumentRenderer
# made of the user, without its groups (sorted as WireUser.groups), which change apart from the
# user. A plain tuple: a page builds 100 of them, and a dataclass costs ten times as much.
UserDocument = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class DocumentPage:
    """A page of users as stored documents: what a list without projection is made of."""

    total: int
    users: tuple[UserDocument, ...]


def content_version(
    *, handle: str, display_name: str, external_id: str, email: str | None,
    email_type: str | None, status: str, role: str, locale: str, rich_info: RichInfo, extra: str,
) -> str:  # fmt: skip
    """Weak ETag over everything a client can see change; equal content gives an equal version."""
    content = json.dumps(
        [handle, display_name, external_id, email, email_type, status, role, locale,
         [list(f) for f in rich_info], extra],
        ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    return 'W/"' + hashlib.sha256(content.encode()).hexdigest()[:32] + '"'


def format_time(moment: datetime) -> str:
    """The stored and returned form of a time: UTC, milliseconds, 'Z' (sorts as text)."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def now_text() -> str:
    return format_time(datetime.now(timezone.utc))


# --- groups ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupFields:
    """What a SCIM client can set on a Wire user group besides its members."""

    display_name: str
    external_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewGroup:
    id: str
    fields: GroupFields
    members: tuple[str, ...] = ()  # user ids, without duplicates


@dataclass(frozen=True, slots=True, kw_only=True)
class WireGroup:
    id: str
    team: str
    display_name: str
    external_id: str | None
    created: str
    last_modified: str
    version: str  # weak ETag from a counter bumped on every effective change
    member_count: int
    members: tuple[str, ...] | None = None  # user ids, sorted; None when not loaded


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupQuery:
    """A group list request: filter AST (None: every group), sort, window, members or not."""

    filter: object | None = None  # gateway.scim.filter.ast.Filter
    sort_by: str | None = None  # "displayname", "meta.created" or "meta.lastmodified"
    descending: bool = False
    offset: int = 0
    limit: int = 100
    include_members: bool = True


@dataclass(frozen=True, slots=True)
class GroupPage:
    total: int
    groups: tuple[WireGroup, ...]


@dataclass(frozen=True, slots=True)
class AddMembers:
    """Add these users (already members: nothing happens)."""

    user_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveMembers:
    """Remove these users (not members: nothing happens)."""

    user_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReplaceMembers:
    """Make these users the whole member list."""

    user_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rename:
    display_name: str


@dataclass(frozen=True, slots=True)
class SetExternalId:
    external_id: str | None


# One step of a group change; a PATCH or PUT is a sequence of them, applied in order, atomically.
GroupEdit = AddMembers | RemoveMembers | ReplaceMembers | Rename | SetExternalId
