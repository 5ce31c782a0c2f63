"""
The SCIM Group flows over a `Backend`: create, read, replace, patch, delete, search.

Unlike a user, a group is never read, changed in memory and written back. A PATCH becomes edits
that the backend applies in one write (group_patch.py), so adding a member to a 10,000-member
group costs one row, and two concurrent PATCHes of one group cannot lose each other's members.
Only a `remove` whose value filter is not `value eq "id"` reads the member list to resolve it.

If-Match is compared once, by the backend inside its write (`expected_version`); this module only
turns the header into that version, reading the group first only when the header alone does not
name one (several tags; any tag on DELETE, which the backend does not check).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.backend.base import Backend
from gateway.backend.wire_group import (
    GroupEdit,
    GroupFields,
    GroupPage,
    GroupQuery,
    NewGroup,
    RemoveMembers,
    Rename,
    ReplaceMembers,
    SetExternalId,
    WireGroup,
)
from gateway.provisioning.group_patch import (
    PatchEdit,
    RemoveWhere,
    group_edits,
    member_ids,
    validate_display_name,
    validate_external_id,
)
from gateway.provisioning.rules import lower_keys
from gateway.scim.errors import NotFound, PreconditionFailed, ServiceUnavailable
from gateway.scim.filter.evaluate import matches
from gateway.scim.filter.grammar import parse_filter
from gateway.scim.patch import parse_patch
from gateway.store.base import TokenRecord

log = structlog.get_logger()

# A PATCH with a member filter other than `value eq` reads the members, then has the backend write
# on the version read; when another writer got in between, the backend answers PreconditionFailed
# and, unless the client sent If-Match, the filter is resolved again: each retry means another
# write went through. This is the only loop that retries that race: given a version, the backend
# does not plan again when it has moved (gateway/backend/brig/groups.py EDIT_ATTEMPTS says what
# the brig backend retries itself: then at most one more plan per call; the embedded backend
# retries nothing but a PostgreSQL deadlock or serialisation failure of its one transaction). So
# a PATCH makes at most PATCH_ATTEMPTS resolutions, each one member read and one edit_group call;
# past them, 503.
PATCH_ATTEMPTS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSearch:
    filter: str | None = None
    sort_by: str | None = None
    descending: bool = False
    start_index: int = 1
    count: int = 100
    include_members: bool = True


@dataclass(frozen=True, slots=True)
class ValidGroup:
    fields: GroupFields
    members: tuple[str, ...] | None  # None: the body has no `members` (PUT keeps them)


def validate_group(body: Any) -> ValidGroup:
    """
    A POST/PUT Group body: displayName (1 to 4000 characters), optional externalId, members as
    `{"value": id}` objects. `id`, `meta`, `schemas` (Microsoft adds its own URN) and unknown
    attributes are ignored, as on Users.
    """
    attrs = lower_keys(body, where="the Group")
    fields = GroupFields(
        display_name=validate_display_name(attrs.get("displayname")),
        external_id=validate_external_id(attrs.get("externalid")),
    )
    return ValidGroup(fields, member_ids(attrs["members"]) if "members" in attrs else None)


class GroupService:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def create(self, token: TokenRecord, body: Any) -> WireGroup:
        valid = validate_group(body)
        new = NewGroup(id=str(uuid.uuid4()), fields=valid.fields, members=valid.members or ())
        group = await self._backend.create_group(token.team, new)
        log.info("group_created", group_id=group.id, team=token.team, members=group.member_count)
        return group

    async def get(self, token: TokenRecord, group_id: str, *, include_members: bool = True) -> WireGroup:
        return await self._backend.get_group(token.team, _group_id(group_id), include_members=include_members)

    async def replace(self, token: TokenRecord, group_id: str, body: Any, *, if_match: str | None) -> WireGroup:
        """PUT: name and externalId replaced; members replaced when the body has `members`."""
        gid = _group_id(group_id)
        valid = validate_group(body)
        edits: list[GroupEdit] = [Rename(valid.fields.display_name), SetExternalId(valid.fields.external_id)]
        if valid.members is not None:
            edits.append(ReplaceMembers(valid.members))
        expected = await self._expected_version(token.team, gid, if_match)
        group = await self._backend.edit_group(token.team, gid, edits, expected_version=expected, include_members=True)
        log.info("group_replaced", group_id=gid, team=token.team, version=group.version)
        return group

    async def patch(
        self, token: TokenRecord, group_id: str, body: Any, *, if_match: str | None, include_members: bool
    ) -> WireGroup:
        """RFC 7644 §3.5.2 as edits applied by the backend in one write; see the module docstring."""
        gid = _group_id(group_id)
        edits = group_edits(parse_patch(body), group_id=gid)
        expected = await self._expected_version(token.team, gid, if_match)
        for _ in range(PATCH_ATTEMPTS):  # see PATCH_ATTEMPTS: the one loop that retries this race
            resolved, read_version = await self._resolve(token.team, gid, edits)
            # If-Match's version, else the one the filters were resolved on. Versions only grow and
            # the client read If-Match's before this request, so edits resolved on another version
            # fail the backend's comparison: 412, as the client asked.
            try:
                group = await self._backend.edit_group(
                    token.team,
                    gid,
                    resolved,
                    expected_version=expected or read_version,
                    include_members=include_members,
                )
            except PreconditionFailed:
                if read_version is None or if_match is not None:
                    raise
                continue
            log.info("group_patched", group_id=gid, team=token.team, version=group.version)
            return group
        raise ServiceUnavailable(
            f"Group {gid} is being changed by too many requests at once; retry", headers={"Retry-After": "1"}
        )

    async def delete(self, token: TokenRecord, group_id: str, *, if_match: str | None = None) -> None:
        """Idempotent, and silent for unknown ids and other teams' groups (as for users)."""
        try:
            gid = _group_id(group_id)
            if if_match is not None:
                await self._expected_version(token.team, gid, if_match, always_read=True)
        except NotFound:
            return
        if await self._backend.delete_group(token.team, gid):
            log.info("group_deleted", group_id=gid, team=token.team)

    async def search(self, token: TokenRecord, request: GroupSearch) -> tuple[GroupPage, int]:
        """A page of the team's groups; returns (page, startIndex actually used)."""
        start = max(request.start_index, 1)
        query = GroupQuery(
            filter=None if request.filter is None else parse_filter(request.filter),
            sort_by=request.sort_by,
            descending=request.descending,
            offset=start - 1,
            limit=max(request.count, 0),
            include_members=request.include_members,
        )
        return await self._backend.search_groups(token.team, query), start

    async def _expected_version(
        self, team: str, group_id: str, if_match: str | None, *, always_read: bool = False
    ) -> str | None:
        """
        The version an If-Match header asks the write to start from (None: any), for the backend
        to compare inside the write. One tag is that version as it stands. Several need the group
        read: the current version is matched against them here and passed on, so that a change
        after this read still fails in the write. DELETE (`always_read`), whose backend method
        takes no version, has its tags matched here alone.
        """
        if if_match is None:
            return None
        wanted = {tag.strip() for tag in if_match.split(",")}
        if not always_read and "*" in wanted:
            return None
        if not always_read and len(wanted) == 1:
            return next(iter(wanted))  # compared by the backend inside the write
        current = await self._backend.get_group(team, group_id, include_members=False)
        if "*" not in wanted and current.version not in wanted:
            raise PreconditionFailed(
                f"Group {group_id} has version {current.version}, not {if_match}; read it again and retry"
            )
        return current.version

    async def _resolve(
        self, team: str, group_id: str, edits: Sequence[PatchEdit]
    ) -> tuple[list[GroupEdit], str | None]:
        """
        Edits with member filters resolved to ids, and the version they were resolved on (None
        when there was nothing to resolve). Whether that is the version If-Match asked for is
        the backend's to say, in the write.
        """
        if not any(isinstance(edit, RemoveWhere) for edit in edits):
            return [edit for edit in edits if not isinstance(edit, RemoveWhere)], None
        current = await self._backend.get_group(team, group_id, include_members=True)
        members = [{"value": user_id, "type": "User"} for user_id in current.members or ()]
        resolved: list[GroupEdit] = []
        for edit in edits:
            if isinstance(edit, RemoveWhere):
                selected = [m["value"] for m in members if matches(m, edit.filter, case_exact=_case_exact)]
                resolved.append(RemoveMembers(tuple(selected)))
            else:
                resolved.append(edit)
        return resolved, current.version


def _case_exact(dotted: str) -> bool:
    return dotted in ("value", "$ref")


def _group_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise NotFound(f"Group {text} not found") from None
