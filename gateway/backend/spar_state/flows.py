"""
spar's SCIM writes to its own tables, in spar's order (services/spar/src/Spar/Scim/User.hs), as
steps the brig backend calls between its brig calls. With these, a user the gateway makes is one
spar finds at SSO login and can update and delete after nginz points /scim back at spar.

Create (`createValidScimUser`):

1. `create_check`: the team's `scim_external` row for the externalId. (user, CREATED) with the user
   alive in brig: 409. (user, CREATING), or CREATED with the user gone from brig: an earlier
   create was interrupted; spar deletes that user (`deleteScimUser`: `delete_user` here, then
   brig's delete) and goes on. No row: go on.
2. uniqueness checks (externalId via `scim_external` and `user_v2`, a user id counting only while
   brig has the user: `getUserIdByScimExternalId`; handle via brig), then a new user id;
3. `create_begin`: `scim_external` (team, externalId) -> (user, CREATING);
4. brig: create the user (`POST /i/users/spar`, or the invitation), rich info;
5. `create_record` (`createValidScimUserSpar`): `scim_user_times`, `scim_external` without the
   marker (it stays CREATING), `user_v2` for a SAML user;
6. brig: the account status (active/suspended);
7. `create_finish`: `scim_external` -> (user, CREATED).

A crash after any step leaves nothing that blocks a retry: before 4, the CREATING row names a
user brig does not have, so it counts as unused and is overwritten; from 4 on, the retry finds
CREATING (or a user brig lost) and cleans up first, as step 1 says.

Update (`updateValidScimUser`): when the externalId changes, `update_external_id`
(`updateVsuUref`: delete the old `scim_external` row and `user_v2` row, write the new ones) and
then brig's `PUT /i/users/:uid/sso-id`; then brig's name, handle, rich info, locale, role and status
changes; last `update_times` (`scim_user_times` with the new lastModified; created kept).

Delete (`deleteScimUser`): while brig still has the user (in the token's team), `delete_user`
(`deleteUserInSpar`: for the externalId under the user's old and current IdP issuer, `user_v2`
then `scim_external`; then `scim_user_times`), then brig's delete. When brig no longer has the
user, spar only asks brig to delete it.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from gateway.backend.spar_state.model import CreationStatus, ExternalIdEntry, SparState, UserTimes


async def create_check(state: SparState, team: UUID, external_id: str) -> ExternalIdEntry | None:
    """Step 1: the row an earlier create left for this externalId, if any (the caller asks brig about its user)."""
    return await state.external_id_get(team, external_id)


async def create_begin(state: SparState, team: UUID, external_id: str, user: UUID) -> None:
    """Step 3: the crash-safety marker, before brig is asked to create anything."""
    await state.external_id_put(team, external_id, user, CreationStatus.CREATING)


async def create_record(
    state: SparState, team: UUID, external_id: str, issuer: str | None, user: UUID, times: UserTimes
) -> None:
    """Step 5 (`createValidScimUserSpar`): times, the externalId index (marker kept), the SAML user."""
    await state.user_times_put(user, times)
    await state.external_id_put(team, external_id, user)
    if issuer is not None:
        await state.saml_user_put(issuer, external_id, user)


async def create_finish(state: SparState, team: UUID, external_id: str, user: UUID) -> None:
    """Step 7: the user is complete."""
    await state.external_id_put(team, external_id, user, CreationStatus.CREATED)


async def update_external_id(
    state: SparState,
    team: UUID,
    user: UUID,
    old: tuple[str, str | None],
    new: tuple[str, str | None],
) -> None:
    """`updateVsuUref`: `old` and `new` are (externalId, issuer or None for a user without SAML)."""
    old_external_id, old_issuer = old
    new_external_id, new_issuer = new
    await state.external_id_delete(team, old_external_id)
    if old_issuer is not None:
        await state.saml_user_delete(old_issuer, old_external_id, user)
    await state.external_id_put(team, new_external_id, user)
    if new_issuer is not None:
        await state.saml_user_put(new_issuer, new_external_id, user)


async def update_times(state: SparState, user: UUID, times: UserTimes) -> None:
    """The last write of an update that changed something: created kept, lastModified now."""
    await state.user_times_put(user, times)


async def delete_user(state: SparState, team: UUID, user: UUID, identities: Iterable[tuple[str, str | None]]) -> None:
    """
    `deleteUserInSpar`: `identities` are (externalId, issuer or None), the user's old one first
    (brig's sso_id) and then the one under the token's IdP; each loses its `user_v2` row (only if
    it names this user) and its `scim_external` row; then the times go.
    """
    for external_id, issuer in identities:
        if issuer is not None:
            await state.saml_user_delete(issuer, external_id, user)
        await state.external_id_delete(team, external_id)
    await state.user_times_delete(user)
