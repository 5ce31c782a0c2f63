"""
The brig backend's SCIM Groups: Wire user groups managed by SCIM, kept by brig (its internal
`user-groups` routes, libs/wire-api/src/Wire/API/Routes/Internal/Brig.hs, which spar's
libs/wire-subsystems/src/Wire/ScimSubsystem/Interpreter.hs calls), with the gateway's mirror
beside them (group_mirror.py). The group methods of the brig backend (backend.py).

What costs what (docs/backend-calls.md, "Groups"):

- Reads without members (`excludedAttributes=members`, every list page, filters, counts, a user's
  `groups`) are served by the mirror: no brig call, and no membership row unless shown.
- A read of one group with its members asks brig (`GET /i/user-groups/:tid/:gid/false`, the
  truth); when brig differs (a member deleted in Wire, say) the mirror follows it.
- Wire's internal API replaces a member list only whole (`PUT /i/user-groups`), so one member
  added or removed costs that one PUT carrying the whole list, read from the mirror (plus one
  `GET /i/users?ids=` for an added member); the mirror itself changes by one indexed row.
  Only the externalId, which Wire does not keep, changes without a brig call.
- Members are what Wire's rule (the `MemberRule` given, gateway/provisioning/group_members.py)
  makes of the facts found here: the ids that are SCIM users of the team in the gateway's mirror
  that brig still has, managed by SCIM, in that team, and the ids of the team's groups (skipped).

Changes go to brig first, then to the mirror conditionally on the revision they were planned on.
One write section per group (locks.py, a lease in the database) orders them across the gateway
processes; should one still find the revision moved, it plans again and sends brig the merged
list, so concurrent writers converge;
unless it was given the version to write on (If-Match, or the version a PATCH's member filter was
resolved on): then it answers PreconditionFailed and the caller, which planned on that version,
decides (see EDIT_ATTEMPTS). A change that fails after its PUT went out (an error, a lost
answer) sends brig the mirror's state again, so that what SCIM was told failed did not happen in
Wire either. brig's refusals become SCIM errors where the public methods return (refusals.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from gateway.backend.base import MemberRule
from gateway.backend.brig import group_creates as creates
from gateway.backend.brig import group_mirror as gs
from gateway.backend.brig import user_mirror as state
from gateway.backend.brig.client import BrigClient, BrigRefused
from gateway.backend.brig.group_creates import GroupCreates
from gateway.backend.brig.locks import WriteLocks
from gateway.backend.brig.mapping import status_of
from gateway.backend.brig.refusals import USER_GROUP_INVALID, refusals_mapped
from gateway.backend.sql.filters import compile_filter, order_by
from gateway.backend.sql.groups import GROUP_SORT_COLUMNS, MIRROR_TABLES, group_filter_table, group_version
from gateway.backend.wire_group import (
    AddMembers,
    GroupEdit,
    GroupPage,
    GroupQuery,
    NewGroup,
    RemoveMembers,
    Rename,
    ReplaceMembers,
    SetExternalId,
    WireGroup,
)
from gateway.clock import format_time, now_text
from gateway.db.dialect import Database
from gateway.scim.errors import NotFound, PreconditionFailed, ScimError, ServiceUnavailable, Uniqueness

log = structlog.get_logger()

_GROUP_FILTERS = group_filter_table(MIRROR_TABLES)
# How many times one edit_group plans its change: the backend's own retries, for two causes. brig
# refused the whole list because a member had left the team behind the gateway's back (that user
# is forgotten, which moves the version of its groups, and the change is planned again without
# it); or, with no `expected_version`, another process changed the group meanwhile (planned again
# on the new revision, brig sent the merge). Given an `expected_version`, a moved group is never
# planned again here: PreconditionFailed at once, for the caller that planned on that version to
# retry if it may (gateway/provisioning/groups.py PATCH_ATTEMPTS, which passes a version whenever
# it retries). So no race is retried by both loops: a call given a version plans at most twice
# (a member left: the version moved, or the member was being added and is refused now), and a
# call given none is not retried by its caller. (_follow_brig, a read, retries its own race.)
EDIT_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class Plan:
    """What `edits` do to a mirrored group: the new name and externalId, member ids added and removed."""

    name: str
    external_id: str | None
    added: frozenset[str]
    removed: frozenset[str]
    members: tuple[str, ...] | None  # the whole list after the edits, when it had to be read

    def changes(self, group: WireGroup) -> bool:
        return self.touches_brig(group) or self.external_id != group.external_id

    def touches_brig(self, group: WireGroup) -> bool:
        return bool(self.added or self.removed) or self.name != group.display_name


class BrigGroups:
    """The group methods of the brig backend; see the module docstring."""

    def __init__(
        self, client: BrigClient, db: Database, locks: WriteLocks, group_members: MemberRule, *, stale_after: float
    ) -> None:
        self._brig = client
        self._creates = GroupCreates(client, db, stale_after=stale_after)
        self._db = db
        self._locks = locks
        self._group_members = group_members

    # --- reads -------------------------------------------------------------------------------

    @refusals_mapped
    async def get_group(self, team: str, group_id: str, *, include_members: bool = True) -> WireGroup:
        row = await self._db.read(lambda conn: gs.group_row(conn, team, group_id))
        if row is None:
            raise NotFound(f"Group {group_id} not found")
        if not include_members:
            return row.group
        brig_group, (mirrored, pending) = await asyncio.gather(
            self._brig.get_user_group(team, group_id),
            self._db.read(lambda conn: (gs.member_ids(conn, group_id), gs.pending_members(conn, group_id))),
        )
        in_wire = tuple(m for m in mirrored if m not in pending)  # brig holds no pending invitee
        if brig_group is not None and _content(brig_group) == (row.group.display_name, in_wire):
            return dataclasses.replace(row.group, members=mirrored)
        return await self._follow_brig(team, group_id)

    async def _follow_brig(self, team: str, group_id: str) -> WireGroup:
        """brig differs from the mirror: read both again under the group's lock; the mirror follows brig."""
        async with self._locks.hold(_lock_key(group_id)):
            for _ in range(EDIT_ATTEMPTS):
                row = await self._db.read(lambda conn: gs.group_row(conn, team, group_id))
                brig_group = await self._brig.get_user_group(team, group_id)
                if row is None or brig_group is None:
                    await self._db.write(lambda conn: gs.forget_group(conn, team, group_id))
                    log.info("group_vanished_from_brig", group_id=group_id, team=team)
                    raise NotFound(f"Group {group_id} not found")
                name, members = _content(brig_group)
                pending = await self._db.read(lambda conn: gs.pending_members(conn, group_id))
                members = tuple(sorted(set(members) | pending))  # the gateway keeps pending invitees
                try:
                    group = await self._db.write(
                        lambda conn: gs.follow_brig(conn, row, name=name, members=members, now=now_text())  # noqa: B023 - awaited in this iteration
                    )
                except gs.Stale:
                    continue  # another process wrote meanwhile: compare again
                if group.version != row.group.version:
                    log.info("group_changed_in_brig", group_id=group_id, team=team)
                return group
        raise ServiceUnavailable(
            f"Group {group_id} is being changed by too many requests at once; retry", headers={"Retry-After": "1"}
        )

    async def search_groups(self, team: str, query: GroupQuery) -> GroupPage:
        """From the mirror alone; a page without members reads no membership row."""
        dialect = self._db.dialect
        where, params = (
            ("", [])
            if query.filter is None
            else compile_filter(
                query.filter,
                _GROUP_FILTERS,
                dialect,
            )
        )
        order = order_by(
            query.sort_by, query.descending, columns=GROUP_SORT_COLUMNS, dialect=dialect, resource="groups"
        )
        return await self._db.read(lambda conn: gs.search(conn, team, where, params, order, query))

    # --- writes ------------------------------------------------------------------------------

    @refusals_mapped
    async def create_group(self, team: str, new: NewGroup) -> WireGroup:
        """
        brig creates the group (and chooses its id), then the mirror records it; a create whose
        answer was lost adopts the group it made (group_creates.py).
        """
        fields = new.fields
        if await self._db.read(lambda conn: gs.external_id_taken(conn, team, fields.external_id, None)):
            raise Uniqueness(f"externalId {fields.external_id!r} is already taken by another group")
        members = await self._members_to_store(team, new.members)
        pending = await self._db.read(lambda conn: gs.pending_among(conn, members))
        in_wire = [m for m in members if m not in pending]  # brig refuses pending invitees (kept here)
        created, note = await self._creates.create(team, fields.display_name, in_wire)  # a lost answer too
        group_id = _group_id(created)
        moment = _wire_time(created.get("createdAt")) or now_text()
        group = WireGroup(
            id=group_id,
            team=team,
            display_name=fields.display_name,
            external_id=fields.external_id,
            created=moment,
            last_modified=moment,
            version=group_version(1),
            member_count=len(members),
            members=tuple(sorted(members)),
        )
        try:
            await self._db.write(lambda conn: creates.record(conn, group, note))
        except BaseException:  # the externalId was taken meanwhile (or the database failed): undo
            await asyncio.shield(self._creates.abandon(team, group_id, note))
            raise
        return group

    @refusals_mapped
    async def edit_group(
        self,
        team: str,
        group_id: str,
        edits: Sequence[GroupEdit],
        *,
        expected_version: str | None = None,
        include_members: bool = False,
    ) -> WireGroup:
        async with self._locks.hold(_lock_key(group_id)):
            sent = False  # brig may hold a list the mirror does not: check (or send) again before returning
            try:
                for _ in range(EDIT_ATTEMPTS):  # see EDIT_ATTEMPTS for what loops and how often
                    row = await self._row(team, group_id, expected_version)
                    plan = await self._plan(team, row, edits)
                    members = plan.members
                    if plan.touches_brig(row.group) or sent:
                        members = members if members is not None else await self._whole_list(row, plan)
                        sent = True  # from here on (a lost answer too) brig may hold what the mirror does not
                        if not await self._put(team, group_id, plan.name, members):
                            continue  # a member had left the team behind the gateway's back: plan again
                    group = await self._commit(row, plan)
                    if group is None:  # another process changed the group meanwhile
                        if expected_version is not None:  # the caller's to plan again, not this loop's
                            await self._row(team, group_id, expected_version)  # raises: the version moved
                        continue  # plan again on the new revision, send brig the merge
                    sent = False
                    if not include_members:
                        return group
                    if members is None:
                        members = await self._db.read(lambda conn: gs.member_ids(conn, group_id))
                    return dataclasses.replace(group, members=tuple(members))
            except BaseException:
                if sent:  # what brig got never reached the mirror: brig goes back to the mirror's state
                    await asyncio.shield(self._restore(team, group_id))
                raise
        raise ServiceUnavailable(
            f"Group {group_id} is being changed by too many requests at once; retry", headers={"Retry-After": "1"}
        )

    async def _row(self, team: str, group_id: str, expected_version: str | None) -> gs.Row:
        """
        The mirrored group an edit plans on: NotFound, or PreconditionFailed when it is not at
        `expected_version` (If-Match's one check: the service passes the header's version on).
        """
        row = await self._db.read(lambda conn: gs.group_row(conn, team, group_id))
        if row is None:
            raise NotFound(f"Group {group_id} not found")
        if expected_version is not None and expected_version != row.group.version:
            raise PreconditionFailed(
                f"Group {group_id} has changed (version {row.group.version}, If-Match "
                f"{expected_version}); read it again and retry"
            )
        return row

    async def _put(
        self, team: str, group_id: str, name: str, members: Sequence[str], *, accepted: str | None = None
    ) -> bool:
        """
        brig's PUT of the name and the whole list (pending invitees left out, but `accepted`);
        False when brig refused a member that has left the team (`user-group-invalid`; that user
        is forgotten, so the next plan goes without it); NotFound when brig has no such group any
        more (the mirror forgets it).
        """
        members = await self._in_wire(members, accepted=accepted)
        try:
            found = await self._brig.put_user_group(team, group_id, name, members)
        except BrigRefused as refused:
            if refused.label == USER_GROUP_INVALID and await self._drop_vanished(team, members):
                return False
            raise
        if not found:
            await self._db.write(lambda conn: gs.forget_group(conn, team, group_id))
            raise NotFound(f"Group {group_id} not found")
        return True

    async def _commit(self, row: gs.Row, plan: Plan) -> WireGroup | None:
        """The planned change into the mirror; None when the revision moved since `row` was read."""
        if not plan.changes(row.group):  # nothing to store, but brig may have been sent the list again
            moved = await self._db.read(lambda conn: gs.revision_of(conn, row.group.id)) != row.revision
            return None if moved else row.group
        try:
            return await self._db.write(
                lambda conn: gs.commit_edit(
                    conn,
                    row,
                    name=plan.name,
                    external_id=plan.external_id,
                    added=plan.added,
                    removed=plan.removed,
                    now=now_text(),
                )
            )
        except gs.Stale:
            return None

    @refusals_mapped
    async def delete_group(self, team: str, group_id: str) -> bool:
        async with self._locks.hold(_lock_key(group_id)):
            if await self._db.read(lambda conn: gs.group_row(conn, team, group_id)) is None:
                return False  # unknown, or another team's: brig is not asked
            await self._brig.delete_user_group(team, group_id)  # False: brig had let it go already
            return await self._db.write(lambda conn: gs.forget_group(conn, team, group_id))

    # --- planning and members ----------------------------------------------------------------------

    async def _plan(self, team: str, row: gs.Row, edits: Sequence[GroupEdit]) -> Plan:
        """
        The effect of `edits` on the mirrored group: the membership of the ids they name is read
        (one indexed lookup each), the whole list only for a ReplaceMembers; ids being added go
        through the member rule (InvalidValue; group ids among them skipped); a new externalId
        must be free.
        """
        group_id = row.group.id
        whole = any(isinstance(edit, ReplaceMembers) for edit in edits)
        named = {i for edit in edits if not isinstance(edit, (Rename, SetExternalId)) for i in edit.user_ids}
        if whole:
            current = set(await self._db.read(lambda conn: gs.member_ids(conn, group_id)))
        else:
            current = await self._db.read(lambda conn: gs.members_among(conn, group_id, named))
        adding = [
            i for e in edits if isinstance(e, (AddMembers, ReplaceMembers)) for i in e.user_ids if i not in current
        ]
        kept = set(await self._members_to_store(team, list(dict.fromkeys(adding))))
        skipped = set(adding) - kept  # the team's groups
        name, external_id, members = row.group.display_name, row.group.external_id, set(current)
        for edit in edits:
            if isinstance(edit, Rename):
                name = edit.display_name
            elif isinstance(edit, SetExternalId):
                external_id = edit.external_id
            elif isinstance(edit, AddMembers):
                members |= set(edit.user_ids) - skipped
            elif isinstance(edit, RemoveMembers):
                members -= set(edit.user_ids)
            else:
                members = set(edit.user_ids) - skipped
        if external_id != row.group.external_id and await self._db.read(
            lambda conn: gs.external_id_taken(conn, team, external_id, group_id)
        ):
            raise Uniqueness(f"externalId {external_id!r} is already taken by another group")
        return Plan(
            name=name,
            external_id=external_id,
            added=frozenset(members - current),
            removed=frozenset(current - members),
            members=tuple(sorted(members)) if whole else None,
        )

    async def _whole_list(self, row: gs.Row, plan: Plan) -> tuple[str, ...]:
        """The member list after `plan`, whole, as Wire's PUT needs it (read from the mirror)."""
        current = await self._db.read(lambda conn: gs.member_ids(conn, row.group.id))
        return tuple(sorted((set(current) | plan.added) - plan.removed))

    async def _members_to_store(self, team: str, ids: Sequence[str]) -> tuple[str, ...]:
        """
        What the member rule makes of new member `ids`, given the users it may take: SCIM users of
        `team` in the gateway's mirror that brig still has (one `GET /i/users?ids=` per 100), in
        the team and managed by SCIM (users brig let go are forgotten); and the team's groups.
        """
        if not ids:
            return ()
        users, groups = await self._db.read(lambda conn: gs.classify(conn, team, ids))
        if users:
            accounts = {a.get("id"): a for a in await self._brig.get_users(sorted(users))}
            gone = [i for i in sorted(users) if not _alive_in(accounts.get(i), team)]
            await self._forget_users(gone)
            users -= set(gone) | {i for i in users if accounts.get(i, {}).get("managed_by") != "scim"}
        return self._group_members(ids, users=users, groups=groups, checked_in_wire=True)

    async def _in_wire(self, members: Sequence[str], *, accepted: str | None = None) -> list[str]:
        """The members brig takes: all but the pending invitations (`accepted`: one known accepted)."""
        pending = await self._db.read(lambda conn: gs.pending_among(conn, members))
        return [m for m in members if m not in pending or m == accepted]

    async def admit_accepted(
        self, team: str, user_id: str, group_ids: Sequence[str], mark_active: Callable[[], Awaitable[None]]
    ) -> None:
        """
        An invitee who accepted joins in brig the groups the gateway kept them in while pending:
        each group's whole list again (Wire's PUT, a member who left the team dropped as `_put`
        does). Every group's write section is held, in id order, until `mark_active` has recorded
        the user active: a change of one of these groups meanwhile would otherwise still take the
        user for pending and send brig a list without them, which the mirror would then follow.
        """
        async with contextlib.AsyncExitStack() as held:
            for group_id in sorted(set(group_ids)):
                await held.enter_async_context(self._locks.hold(_lock_key(group_id)))
            for group_id in sorted(set(group_ids)):
                for _ in range(EDIT_ATTEMPTS):
                    row = await self._db.read(lambda conn: gs.group_row(conn, team, group_id))  # noqa: B023 - awaited here
                    members = await self._db.read(lambda conn: gs.member_ids(conn, group_id))  # noqa: B023 - awaited here
                    if row is None or user_id not in members:
                        break
                    if await self._put(team, group_id, row.group.display_name, members, accepted=user_id):
                        break
            await mark_active()

    async def _drop_vanished(self, team: str, user_ids: Sequence[str]) -> bool:
        """Forget the users among `user_ids` that brig no longer has in `team`; True when there were any."""
        accounts = {a.get("id"): a for a in await self._brig.get_users(list(user_ids))}
        gone = [i for i in user_ids if not _alive_in(accounts.get(i), team)]
        await self._forget_users(gone)
        return bool(gone)

    async def _forget_users(self, user_ids: Sequence[str]) -> None:
        """Users brig let go: out of the mirror, their externalIds freed, out of their groups."""
        if user_ids:
            await self._db.write(lambda conn: _forget_all(conn, user_ids))
            log.info("users_vanished_from_brig", user_ids=list(user_ids))

    async def _restore(self, team: str, group_id: str) -> None:
        """Send brig the mirror's name and members again after a change failed half-way."""
        try:
            row = await self._db.read(lambda conn: gs.group_row(conn, team, group_id))
            if row is not None:
                members = await self._db.read(lambda conn: gs.member_ids(conn, group_id))
                await self._brig.put_user_group(team, group_id, row.group.display_name, await self._in_wire(members))
        except ScimError:
            log.warning("group_restore_failed", group_id=group_id, team=team)


def _forget_all(conn: Any, user_ids: Sequence[str]) -> None:
    for user_id in user_ids:
        state.forget(conn, user_id)


def _lock_key(group_id: str) -> str:
    return f"group:{group_id}"


def _group_id(created: Any) -> str:
    """The id brig gave a new group (its UserGroup answer); 502 when the answer has none."""
    try:
        return str(uuid.UUID(str(created["id"])))
    except (KeyError, TypeError, ValueError):
        raise ScimError("brig answered the group's creation without a group id", status=502) from None


def _content(brig_group: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(name, sorted member ids) of brig's UserGroup JSON."""
    members = brig_group.get("members")
    ids = sorted(str(member) for member in members) if isinstance(members, list) else []
    return str(brig_group.get("name")), tuple(ids)


def _alive_in(account: dict[str, Any] | None, team: str) -> bool:
    return account is not None and account.get("team") == team and status_of(account) is not None


def _wire_time(text: Any) -> str | None:
    """Wire's UTCTimeMillis (`2026-04-11T10:00:00.123Z`) in the gateway's form, None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        return format_time(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None
