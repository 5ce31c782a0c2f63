"""
The brig backend's users: Wire users live in Wire's brig and galley, reached over their internal
API (client.py); the gateway keeps spar's SCIM state beside them (user_mirror.py).

- Reads of one user go to brig (and galley) for the truth; a list page is one batched
  `GET /i/users?ids=` over the gateway's searchable mirror. A user gone from brig (deleted
  elsewhere, an expired invitation) disappears from SCIM reads and its externalId is freed.
- Create follows spar's order (`createValidScimUser`, services/spar/src/Spar/Scim/User.hs):
  externalId marker `creating` first, then brig; on failure the brig account is deleted, or, when
  that fails too, the marker says `abandoned` so that a retried POST removes the leftover first.
  A retried POST either succeeds or answers 409.
- Updates write only the changed fields (as spar's `updateValidScimUser`), identity first
  (handle, SSO id) so that a conflict changes nothing; delete asks brig first and forgets the user
  when brig has let go (as spar's `deleteScimUser`).
- Team members not created through the gateway (no mirror row) are left alone: invisible to SCIM
  reads, never taken over, never deleted (docs/backend-calls.md, "Users not created by SCIM").
- Writes of one user take turns across every gateway process on the database (locks.py's
  `WriteLocks`: the version check and brig's writes are not one transaction anywhere).
- A new externalId is claimed beside the old one until brig's side is known, so that a failed
  or lost `sso-id` write leaves the index as brig holds it (external_id_moves.py).
- Groups are Wire user groups managed by SCIM, with a mirror in the gateway's database
  (groups.py); a user read carries the user's groups from that mirror (no brig call).
- brig's refusals (client.py's `BrigRefused`) become SCIM errors where the public methods return
  (refusals.py): 409 uniqueness for a taken handle or email address, 413, 403, 400.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn

import structlog

from gateway.backend.base import IssuerLookup
from gateway.backend.brig import adoption, group_mirror
from gateway.backend.brig import external_id_moves as moves
from gateway.backend.brig import user_mirror as state
from gateway.backend.brig.client import BrigClient, BrigRefused
from gateway.backend.brig.locks import WriteLocks
from gateway.backend.brig.mapping import (
    brig_puts,
    invitation_body,
    permissions,
    read_back,
    rich_info_body,
    rich_info_of,
    role_of,
    spar_user_body,
    sso_id,
    status_of,
    with_content,
)
from gateway.backend.brig.refusals import refusals_mapped
from gateway.backend.brig.spar_writes import SparWrites
from gateway.backend.spar_state.model import CreationStatus
from gateway.backend.sql.filters import compile_filter, order_by
from gateway.backend.wire_user import NewUser, Page, Status, UserFields, UserQuery, WireUser, fields_of, next_status
from gateway.clock import now_text
from gateway.db.dialect import Database
from gateway.scim.errors import NotFound, PreconditionFailed, ScimError, Uniqueness

log = structlog.get_logger()

CALLS_PER_CREATE = 6  # the most brig/galley calls one create makes: bounds how long `creating` lasts


class BrigUsers:
    """The user methods of the brig backend (backend.py); see the module docstring."""

    def __init__(
        self,
        client: BrigClient,
        db: Database,
        locks: WriteLocks,
        issuers: IssuerLookup,
        *,
        stale_after: float,
        spar: SparWrites | None = None,
    ) -> None:
        self._brig = client
        self._db = db
        self._locks = locks
        self._issuers = issuers
        self._stale_after = stale_after
        self._spar = spar or SparWrites(None)
        self.join_groups: JoinGroups = _no_groups  # set by backend.py: BrigGroups.admit_accepted

    # --- reads ------------------------------------------------------------------------------

    @refusals_mapped
    async def get_user(self, team: str, user_id: str) -> WireUser:
        mirror = await self._db.read(lambda conn: _with_groups(conn, state.mirror_row(conn, team, user_id)))
        if mirror is None:
            raise NotFound(f"User {user_id} not found")
        brig_user = _live(await self._brig.get_users([user_id]), mirror)
        if brig_user is None:
            await self._vanished(user_id)
        rich_info, bits = await asyncio.gather(
            self._brig.get_rich_info(user_id), self._brig.get_member_permissions(team, user_id)
        )
        status = status_of(brig_user)
        assert status is not None  # _live checked it
        # galley has no member for a pending invitation until it is accepted (404 no-team-member):
        # its role is the gateway's until then. An active user without one has left the team.
        if rich_info is None or (bits is None and status != "pending-invitation"):
            await self._vanished(user_id)
        role = mirror.role if bits is None else role_of(bits)
        user = read_back(mirror, brig_user, status=status, rich_info=rich_info_of(rich_info), role=role)
        return (await self._keep([(mirror, user)], team=team))[0]

    @refusals_mapped
    async def search_users(self, team: str, query: UserQuery) -> Page:
        dialect = self._db.dialect  # the store's: SQLite or PostgreSQL
        where, params = ("", []) if query.filter is None else compile_filter(query.filter, dialect=dialect)
        order = order_by(query.sort_by, query.descending, dialect=dialect)
        for attempt in (1, 2):  # a second pass when brig's answers changed what the filter sees
            total, rows = await self._db.read(
                lambda conn: _page_with_groups(
                    conn, state.search(conn, team, where, params, order, query.offset, query.limit)
                )
            )
            if not rows:
                if attempt == 1 and total == 0 and await self._adopt(team, query):
                    continue  # a user spar's SCIM made, now in the mirror: search again
                return Page(total, ())
            accounts = await self._brig.get_users([row.id for row in rows])
            pairs, gone = [], []
            for row in rows:
                brig_user = _live(accounts, row)
                if brig_user is None:
                    gone.append(row.id)
                else:
                    status = status_of(brig_user)
                    assert status is not None  # _live checked it
                    pairs.append((row, read_back(row, brig_user, status=status)))
            users = await self._keep(pairs, forget=gone, team=team)
            drifted = gone or any(old.version != new.version for old, new in pairs)
            if not drifted or attempt == 2:  # else the mirror changed under the filter: once more
                return Page(total - len(gone), tuple(users))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _adopt(self, team: str, query: UserQuery) -> bool:
        """An IdP's `externalId eq` / `userName eq` that found nothing: a user spar's SCIM made (adoption.py)?"""
        named = adoption.wanted(query.filter)
        if named is None or not self._spar.active:
            return False
        return await adoption.adopt(self._brig, self._db, self._spar, self._issuers, team, *named) is not None

    async def _keep(
        self, pairs: Iterable[tuple[WireUser, WireUser]], *, team: str, forget: Iterable[str] = ()
    ) -> list[WireUser]:
        """
        Refresh the mirror rows brig changed (lastModified: now) and forget vanished users. An
        invitation found accepted gets the role and the groups the gateway kept for it first.
        """
        now = now_text()
        pairs = list(pairs)
        for index, (old, new) in enumerate(pairs):
            if old.status == "pending-invitation" and new.status != "pending-invitation":
                pairs[index] = (old, await self._settle_acceptance(team, old, new))
        users = [
            new if new.version == old.version else dataclasses.replace(new, last_modified=now) for old, new in pairs
        ]
        changed = [user for (old, _), user in zip(pairs, users, strict=True) if user.version != old.version]
        gone = list(forget)
        if changed or gone:

            def work(conn: Any) -> None:
                for user_id in gone:
                    state.forget(conn, user_id)
                for user in changed:
                    state.save(conn, user)

            await self._db.write(work)
            if gone:
                log.info("users_vanished_from_brig", user_ids=gone)
        return users

    async def _settle_acceptance(self, team: str, pending: WireUser, accepted: WireUser) -> WireUser:
        """
        An invitation the invitee has accepted: galley made them a member with the role they were
        invited with; the role the IdP set since (kept by the gateway meanwhile) is written now, and
        the user joins in brig the groups the gateway kept for them (brig refuses pending members).
        """
        await self._brig.put_member_permissions(team, accepted.id, permissions(pending.role))  # once per user
        settled = with_content(accepted, dataclasses.replace(fields_of(accepted), role=pending.role), accepted.status)
        if pending.groups:

            async def mark_active() -> None:  # under the groups' write sections (groups.py admit_accepted)
                await self._db.write(
                    lambda conn: state.save(conn, dataclasses.replace(settled, last_modified=now_text()))
                )

            await self.join_groups(team, accepted.id, [group_id for group_id, _ in pending.groups], mark_active)
        log.info("invitation_accepted", user_id=accepted.id, team=team)
        return settled

    async def _vanished(self, user_id: str) -> NoReturn:
        """Forget a user brig no longer has (its externalId becomes free) and answer NotFound."""
        await self._keep([], forget=[user_id], team="")
        raise NotFound(f"User {user_id} not found")

    # --- create -----------------------------------------------------------------------------

    @refusals_mapped
    async def create_user(self, team: str, new: NewUser) -> WireUser:
        """spar's order (`createValidScimUser`) with the `creating` marker; see the module docstring."""
        f = new.fields
        await self._free_external_id(team, f.external_id)
        if await self._brig.handle_taken(f.handle):
            raise Uniqueness(f"userName {f.handle!r} is already taken")
        issuer = None if new.idp is None else await self._issuers.issuer_of(team, new.idp)  # before any write
        await self._db.write(lambda conn: state.claim(conn, team, f.external_id, new.id, time.time()))
        try:
            await self._free_in_spar(team, f.external_id, issuer)  # after the claim: no concurrent create of ours
            await self._spar.creating(team, f.external_id, new.id)
            user = await self._create_in_brig(team, new, issuer)
        except BaseException:
            await asyncio.shield(self._undo_create(team, f.external_id, new.id, issuer))
            raise
        await self._db.write(lambda conn: state.record_created(conn, user))
        return user

    async def _create_in_brig(self, team: str, new: NewUser, issuer: str | None) -> WireUser:
        """brig's calls of a create, with spar's rows where spar writes them (spar_writes.py)."""
        f = new.fields
        now = now_text()
        if issuer is not None:
            await self._brig.create_spar_user(spar_user_body(team, new, issuer))
            await self._spar.created(team, f.external_id, issuer, new.id, now)
            status: Status = "active"
            if not f.active:
                await self._brig.put_user_field(new.id, "status", {"status": "suspended"})
                status = "suspended"
            if f.email is not None:
                await self._set_email(team, new.id, f.email)
        else:
            await self._brig.create_invitation(team, invitation_body(team, new))
            await self._brig.put_user_field(new.id, "handle", {"handle": f.handle})
            if f.rich_info:
                await self._brig.put_user_field(new.id, "rich-info", {"rich_info": rich_info_body(f.rich_info)})
            await self._spar.created(team, f.external_id, None, new.id, now)
            status = "pending-invitation"
        await self._spar.finished(team, f.external_id, new.id)
        blank = WireUser(
            id=new.id,
            team=team,
            handle="",
            display_name="",
            external_id="",
            email=None,
            email_type=None,
            status="active",
            role="member",
            locale="",
            idp=new.idp,
            rich_info=(),
            extra="{}",
            created=now,
            last_modified=now,
        )
        return with_content(blank, f, status)

    async def _undo_create(self, team: str, external_id: str, user_id: str, issuer: str | None) -> None:
        """
        Delete what a failed create left in brig and in spar's tables; if either fails, mark the
        claim abandoned (a retried POST cleans up first; spar's CREATING marker tells spar so too).
        """
        try:
            await self._brig.delete_user(user_id)
            await self._spar.forget(team, external_id, user_id, issuer)
        except ScimError:
            await self._db.write(lambda conn: state.set_claim_state(conn, team, external_id, user_id, "abandoned"))
            log.warning("create_left_over", user_id=user_id, team=team)
            return
        await self._db.write(lambda conn: state.release(conn, team, external_id, user_id))

    async def _free_in_spar(self, team: str, external_id: str, issuer: str | None) -> None:
        """
        spar's `scim_external` row for the externalId (with spar_state): a complete user brig still
        has is 409 (spar's `assertExternalIdUnused`); a create interrupted (CREATING) or a user brig
        let go is cleaned up first, brig's account before spar's rows, as spar does.
        """
        entry = await self._spar.entry(team, external_id)
        if entry is None:
            return
        holder = str(entry.user)
        alive = [u for u in await self._brig.get_users([holder]) if u.get("team") == team and status_of(u) is not None]
        if alive and entry.status == CreationStatus.CREATED:
            raise Uniqueness(f"externalId {external_id!r} is already taken by Wire user {holder}")
        if alive:
            await self._brig.delete_user(holder)
        await self._spar.forget(team, external_id, holder, issuer)
        log.info("interrupted_spar_create_cleaned", user_id=holder, team=team)

    async def _free_external_id(self, team: str, external_id: str, *, mover: str | None = None) -> None:
        """
        Uniqueness when a live user holds `external_id` or a create of it (or a move to it) is
        under way; else clean what holds it: a vanished user's entry, an abandoned create (its
        brig leftover deleted first), or a failed move. The `mover`'s own claim is its to retake.
        """
        claim = await self._db.read(lambda conn: state.get_claim(conn, team, external_id))
        if claim is None or claim.user_id == mover:
            return
        if claim.state == "moving":
            await moves.check_moving(self._brig, self._db, team, external_id, claim, stale_after=self._stale_after)
            return
        if claim.state == "created":
            live = [u for u in await self._brig.get_users([claim.user_id]) if status_of(u) is not None]
            if live:
                raise Uniqueness(
                    f"externalId {external_id!r} is already taken: user with status {live[0].get('status')} exists"
                )
            await self._db.write(lambda conn: state.forget(conn, claim.user_id))
            return
        if claim.state == "creating" and time.time() - claim.claimed_at < self._stale_after:
            raise Uniqueness(f"externalId {external_id!r} is being created by another request; retry shortly")
        await self._brig.delete_user(claim.user_id)
        await self._db.write(lambda conn: state.release(conn, team, external_id, claim.user_id))
        log.info("abandoned_create_cleaned", user_id=claim.user_id, team=team)

    async def _set_email(self, team: str, user_id: str, email: str) -> None:
        """spar's validateEmail: activation mail when validateSAMLemails is enabled, else at once."""
        send = await self._brig.validate_saml_emails(team)
        await self._brig.put_email(user_id, email, send_activation=send)

    # --- update, delete, accept -----------------------------------------------------------------

    @refusals_mapped
    async def update_user(
        self, team: str, user_id: str, fields: UserFields, *, expected_version: str | None = None
    ) -> WireUser:
        async with self._locks.hold(user_id):
            if expected_version is not None:  # every write through the gateway moves the mirror's version
                mirror = await self._db.read(lambda conn: state.mirror_row(conn, team, user_id))
                if mirror is not None and mirror.version != expected_version:
                    raise PreconditionFailed(
                        f"User {user_id} has changed (version {mirror.version}, If-Match {expected_version}); "
                        "read it again and retry"
                    )
            current = await self.get_user(team, user_id)
            if expected_version is not None and expected_version != current.version:
                raise PreconditionFailed(
                    f"User {user_id} has changed (version {current.version}, If-Match {expected_version}); "
                    "read it again and retry"
                )
            if fields.email is None and current.email is not None:  # brig cannot drop an email
                fields = dataclasses.replace(fields, email=current.email, email_type=current.email_type)
            wanted = with_content(current, fields, next_status(current.status, fields.active))
            if wanted.version == current.version:
                return current
            await self._write_changes(team, current, wanted)
            updated = dataclasses.replace(wanted, last_modified=now_text())
            try:
                await self._spar.touched(updated)  # spar's last write of an update: the SCIM times
            except ScimError:  # brig holds the change: answer it; the times are only spar's meta
                log.warning("spar_times_not_written", user_id=user_id, team=team)
            await self._db.write(lambda conn: state.save(conn, updated))
            return updated

    async def _write_changes(self, team: str, current: WireUser, wanted: WireUser) -> None:
        """
        Per changed field, as spar (`updateValidScimUser`); conflicts are checked before anything
        is written. A new externalId is claimed `moving` beside the old one until brig's side is
        known (external_id_moves.py): the mirror's `save` finishes the move, a failure settles it.
        """
        uid = current.id
        if wanted.external_id == current.external_id:
            await self._check_handle(current, wanted)
            await self._write_fields(team, current, wanted, None)
            return
        await self._free_external_id(team, wanted.external_id, mover=uid)
        await self._check_spar_index(team, wanted.external_id, uid)
        await self._check_handle(current, wanted)
        issuer = None if current.idp is None else await self._issuers.issuer_of(team, current.idp)
        await self._db.write(lambda conn: state.hold_move(conn, team, uid, wanted.external_id, time.time()))
        sso = moves.SsoWrite(issuer=issuer)
        try:
            await self._write_fields(team, current, wanted, sso)
        except BaseException:
            await asyncio.shield(self._settle_move(team, current, wanted.external_id, sso))
            raise

    async def _settle_move(self, team: str, current: WireUser, new: str, sso: moves.SsoWrite) -> None:
        """A failed externalId change: the index as brig holds it; spar's rows back if brig kept the old one."""
        await moves.settle(self._brig, self._db, team, current.id, new, sso)
        if sso.state == "unsent":  # brig kept the old one for sure ("sent": unknown, spar's rows stay new)
            try:
                await self._spar.moved(team, current.id, (new, sso.issuer), (current.external_id, sso.issuer))
            except ScimError:
                log.warning("spar_external_id_not_moved_back", user_id=current.id, team=team)

    async def _check_spar_index(self, team: str, external_id: str, user_id: str) -> None:
        """With spar_state: a new externalId that spar's index gives another live user is taken (409)."""
        entry = await self._spar.entry(team, external_id)
        if entry is None or str(entry.user) == user_id:
            return
        holders = [u for u in await self._brig.get_users([str(entry.user)]) if u.get("team") == team]
        if any(status_of(u) is not None for u in holders):
            raise Uniqueness(f"externalId {external_id!r} is already taken by Wire user {entry.user}")

    async def _check_handle(self, current: WireUser, wanted: WireUser) -> None:
        if wanted.handle != current.handle and await self._brig.handle_taken(wanted.handle):
            raise Uniqueness(f"userName {wanted.handle!r} is already taken")

    async def _write_fields(self, team: str, current: WireUser, wanted: WireUser, sso: moves.SsoWrite | None) -> None:
        """brig's writes, the handle first: its conflict is the one brig may still report."""
        uid = current.id
        if wanted.handle != current.handle:
            await self._brig.put_user_field(uid, "handle", {"handle": wanted.handle})
        if sso is not None:
            await self._spar.moved(team, uid, (current.external_id, sso.issuer), (wanted.external_id, sso.issuer))
            sso.state = "sent"
            try:
                await self._brig.put_user_field(uid, "sso-id", sso_id(wanted.external_id, sso.issuer))
            except BrigRefused:
                sso.state = "unsent"  # brig answered no: it still holds the old one
                raise
            sso.state = "done"
        puts: list[tuple[str, Mapping[str, Any]]] = []
        if wanted.rich_info != current.rich_info:
            puts.append(("rich-info", {"rich_info": rich_info_body(wanted.rich_info)}))
        puts += brig_puts(current, wanted, skip=("handle",))  # the table's plain fields: name, locale, ...
        for field, body in puts:
            await self._brig.put_user_field(uid, field, body)
        if wanted.email is not None and wanted.email != current.email:
            await self._set_email(team, uid, wanted.email)
        if wanted.role != current.role and current.status != "pending-invitation":  # else no galley member yet
            await self._brig.put_member_permissions(team, uid, permissions(wanted.role))
        if wanted.status != current.status:
            await self._brig.put_user_field(uid, "status", {"status": wanted.status})

    @refusals_mapped
    async def delete_user(self, team: str, user_id: str) -> bool:
        """brig first, then the gateway's state: a failure in between leaves nothing orphaned."""
        async with self._locks.hold(user_id):
            mirror = await self._db.read(lambda conn: state.mirror_row(conn, team, user_id))
            if mirror is None:
                return False
            issuer = None
            if mirror.idp is not None:
                try:
                    issuer = await self._issuers.issuer_of(team, mirror.idp)
                except (
                    ScimError
                ):  # the IdP is gone: its user_v2 row cannot be named (spar's login cannot use it either)
                    log.warning("saml_user_row_left", user_id=user_id, team=team, idp=mirror.idp)
            await self._spar.deleted(team, user_id, [(mirror.external_id, issuer)])  # deleteScimUser: spar first
            code = await self._brig.delete_user(user_id)
            await self._db.write(lambda conn: state.forget(conn, user_id))
            return code == 202

    @refusals_mapped
    async def accept_invitation(self, team: str, user_id: str) -> WireUser:
        """
        Accept a pending invitation for the invitee, for trials and tests with brig-lite only: its
        acceptance route (not Wire's; in Wire the invitee accepts the invitation mail and brig
        makes them a galley member). The user is then read as any accepted invitation is: active,
        with the role and groups the gateway kept for them written to Wire.
        """
        async with self._locks.hold(user_id):
            current = await self.get_user(team, user_id)
            if current.status != "pending-invitation":
                return current
            await self._brig.accept_in_brig_lite(user_id)
        return await self.get_user(team, user_id)


JoinGroups = Callable[[str, str, Sequence[str], Callable[[], Awaitable[None]]], Awaitable[None]]


async def _no_groups(
    team: str, user_id: str, group_ids: Sequence[str], mark_active: Callable[[], Awaitable[None]]
) -> None:
    await mark_active()


def _live(users: Iterable[Mapping[str, Any]], mirror: WireUser) -> Mapping[str, Any] | None:
    """The brig account of `mirror`'s user among `users` if it is alive and still in the team."""
    for user in users:
        if user.get("id") == mirror.id and user.get("team") == mirror.team and status_of(user) is not None:
            return user
    return None


def _with_groups(conn: Any, mirror: WireUser | None) -> WireUser | None:
    """A mirror row carrying the user's groups (read_back keeps them), in the same unit of work."""
    return None if mirror is None else group_mirror.with_groups(conn, [mirror])[0]


def _page_with_groups(conn: Any, found: tuple[int, list[WireUser]]) -> tuple[int, list[WireUser]]:
    """A search result (total, mirror rows) whose rows carry their users' groups: one query for the page."""
    total, rows = found
    return total, group_mirror.with_groups(conn, rows)
