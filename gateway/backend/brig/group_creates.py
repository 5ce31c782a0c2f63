"""
Group creates whose answer is lost (issue 16). brig chooses a new group's id and
`POST /i/user-groups/full` is not idempotent, so when its answer never arrives (a 5xx after the
work, a dropped connection, a timeout) the group may exist in Wire with an id the gateway never
learnt, and the IdP's retry would make a second one.

So a create is written down first (`brig_group_creates`, migration 7: team, name, members, when)
and the note is dropped with the mirror's row. When the answer is lost the group is looked for in
brig's list of the team's SCIM groups (`GET /i/user-groups/:tid?nameContains=`, docs/wire.md
§6.4): a group of that name and those members, made since the note (give or take CLOCK_SLACK),
that the mirror does not know. Found, it is adopted: the create succeeds. Not found, the create
failed and nothing is left. When brig cannot be asked (or the request was cancelled), the note
stays `unsettled`, and the next create of that name in the team, the IdP's retry, first deletes
what it finds, then creates: one group either way. A note whose request died stays `pending`, and
is settled the same way once older than `stale_after`. While another create of the same name is
under way nothing is adopted or deleted (its group would look the same).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from gateway.backend.brig import group_mirror as gs
from gateway.backend.brig.client import BrigClient, BrigRefused
from gateway.backend.wire_group import WireGroup
from gateway.db.dialect import Connection, Database
from gateway.scim.errors import ScimError

log = structlog.get_logger()

CLOCK_SLACK = 60.0  # seconds brig's clock may be behind the gateway's when telling new groups
PAGE = 500  # groups per page of brig's list (its largest)


@dataclass(frozen=True, slots=True)
class Note:
    """A create sent to brig: what it asked for, and when."""

    id: str
    team: str
    name: str
    members: tuple[str, ...]  # sorted
    state: str  # pending | unsettled
    started_at: float


class GroupCreates:
    """`POST /i/user-groups/full` with its note; see the module docstring."""

    def __init__(self, client: BrigClient, db: Database, *, stale_after: float) -> None:
        self._brig = client
        self._db = db
        self._stale_after = stale_after

    async def create(self, team: str, name: str, members: Sequence[str]) -> tuple[dict[str, Any], str]:
        """(brig's UserGroup, the note's id for `record`): the group made now, or the one a lost answer made."""
        await self._settle_earlier(team, name)
        note = Note(str(uuid.uuid4()), team, name, tuple(sorted(members)), "pending", time.time())
        await self._db.write(lambda conn: _insert(conn, note))
        try:
            return await self._brig.create_user_group(team, name, members), note.id
        except BrigRefused:  # brig answered: nothing was made
            await asyncio.shield(self._db.write(lambda conn: drop(conn, note.id)))
            raise
        except Exception:
            adopted = await asyncio.shield(self._adopt(note))
            if adopted is None:
                raise
            log.info("group_create_answer_lost_adopted", group_id=adopted.get("id"), team=team)
            return adopted, note.id
        except BaseException:  # cancelled: the next create of the name settles it
            await asyncio.shield(self._db.write(lambda conn: _mark_unsettled(conn, note.id)))
            raise

    async def abandon(self, team: str, group_id: str, note_id: str) -> None:
        """Delete a group brig made but the mirror could not record (or leave it to the next create)."""
        try:
            await self._brig.delete_user_group(team, group_id)
        except ScimError:
            await self._db.write(lambda conn: _mark_unsettled(conn, note_id))
            log.warning("group_create_left_over", group_id=group_id, team=team)
            return
        await self._db.write(lambda conn: drop(conn, note_id))

    async def _adopt(self, note: Note) -> dict[str, Any] | None:
        """The group a lost answer made, if brig shows exactly one; else the note is settled or left `unsettled`."""
        try:
            if await self._others_under_way(note):
                found = None
            else:
                found = await self._made_for(note)
        except ScimError:
            found = None
        if found is None:
            await self._db.write(lambda conn: _mark_unsettled(conn, note.id))
            return None
        if len(found) == 1:
            return found[0]
        await self._delete(note, found)  # none: nothing was made; several: none is trusted
        return None

    async def _settle_earlier(self, team: str, name: str) -> None:
        """Delete what earlier creates of `name` whose answers were lost left in brig, unless one is under way."""
        notes = await self._db.read(lambda conn: _notes(conn, team, name))
        now = time.time()
        if any(n.state == "pending" and now - n.started_at < self._stale_after for n in notes):
            return
        for note in notes:
            try:
                await self._delete(note, await self._made_for(note))
            except ScimError:
                log.warning("group_create_unsettled", team=team, note=note.id)

    async def _delete(self, note: Note, groups: Sequence[dict[str, Any]]) -> None:
        for group in groups:
            await self._brig.delete_user_group(note.team, str(group["id"]))
            log.info("group_create_left_over_deleted", group_id=group["id"], team=note.team)
        await self._db.write(lambda conn: drop(conn, note.id))

    async def _others_under_way(self, note: Note) -> bool:
        notes = await self._db.read(lambda conn: _notes(conn, note.team, note.name))
        now = time.time()
        return any(n.id != note.id and n.state == "pending" and now - n.started_at < self._stale_after for n in notes)

    async def _made_for(self, note: Note) -> list[dict[str, Any]]:
        """brig's groups that `note`'s create may have made: its name and members, since then, unknown to the mirror."""
        found, start = [], 0
        while True:
            page, total = await self._brig.list_user_groups(note.team, note.name, start, PAGE)
            found += [g for g in page if isinstance(g, dict) and _made_by(g, note)]
            start += len(page)
            if not page or start >= total:
                break
        ids = [str(g.get("id")) for g in found]
        _, mirrored = await self._db.read(lambda conn: gs.classify(conn, note.team, ids))
        return [g for g in found if str(g.get("id")) not in mirrored]


def _made_by(group: dict[str, Any], note: Note) -> bool:
    members = group.get("members")
    if group.get("name") != note.name or not isinstance(members, list):
        return False
    if tuple(sorted(str(m) for m in members)) != note.members:
        return False
    try:
        created = datetime.fromisoformat(str(group.get("createdAt")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return created >= note.started_at - CLOCK_SLACK


def _insert(conn: Connection, note: Note) -> None:
    conn.execute(
        "INSERT INTO brig_group_creates (id, team, display_name, members, state, started_at) VALUES (?, ?, ?, ?, ?, ?)",
        (note.id, note.team, note.name, json.dumps(note.members), note.state, note.started_at),
    )


def record(conn: Connection, group: WireGroup, note_id: str) -> None:
    """The new group into the mirror and its create's note dropped, in one transaction."""
    gs.insert_group(conn, group)
    drop(conn, note_id)


def drop(conn: Connection, note_id: str) -> None:
    """The create is settled (its group recorded, adopted, deleted or never made)."""
    conn.execute("DELETE FROM brig_group_creates WHERE id = ?", (note_id,))


def _mark_unsettled(conn: Connection, note_id: str) -> None:
    conn.execute("UPDATE brig_group_creates SET state = 'unsettled' WHERE id = ?", (note_id,))


def _notes(conn: Connection, team: str, name: str) -> list[Note]:
    rows = conn.execute(
        "SELECT id, team, display_name, members, state, started_at FROM brig_group_creates "
        "WHERE team = ? AND display_name = ? ORDER BY started_at",
        (team, name),
    ).fetchall()
    return [Note(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], float(r[5])) for r in rows]
