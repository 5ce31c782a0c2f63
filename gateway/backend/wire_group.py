"""
Wire user groups as the gateway sees them: plain frozen values exchanged with every `Backend`, and
the edits a group change is made of (a PATCH or PUT is a sequence of them, applied in order, all
or none), so that adding one member never rewrites the member list.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.scim.filter.ast import Filter


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

    filter: Filter | None = None
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
