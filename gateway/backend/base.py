"""
The `Backend` protocol: where Wire users live. Implementations do not inherit from it; the
contract suite in tests/contract/test_backend.py is what makes one correct.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from gateway.backend.documents import DocumentPage, UserDocument
from gateway.backend.wire_group import GroupEdit, GroupPage, GroupQuery, NewGroup, WireGroup
from gateway.backend.wire_user import NewUser, Page, UserFields, UserQuery, WireUser


class Backend(Protocol):
    """
    A directory of Wire team users and their user groups.

    Contract:
    - Every method is scoped to `team`; users of other teams are invisible (NotFound).
    - Returns fresh frozen values; raises gateway.scim.errors.NotFound, Uniqueness (detail names
      `userName` or `externalId`) and PreconditionFailed; never HTTP or driver errors.
    - Handles are unique across all teams (as brig's); externalIds per team, case-sensitive.
    - A write either happens completely or not at all.
    - `update_user` with content equal to the stored content changes nothing (same version and
      lastModified). A pending invitation stays pending whatever `active` says.
    - A user read (`get_user`, `search_users`, `update_user`) carries `groups`: (id, displayName)
      of its groups, sorted by name. Membership is not part of the user's `version`.

    Groups (SCIM Groups as Wire user groups managed by SCIM):
    - Members are users of the same team; member ids are unique within a group. Which ids a new
      group or an edit may add is the `MemberRule` the backend was made with: the backend finds
      which of them are users it accepts and which are the team's groups, in the same write as
      the change, and stores what the rule answers (InvalidValue listing the other ids; ids of
      the team's groups skipped: Wire user groups hold users only, Entra sends nested groups).
    - externalId is optional and unique per team when given (Uniqueness); displayName is not
      unique and is stored as given (the service checks its length).
    - `version` is a weak ETag that changes with every effective change (name, externalId, a member
      added or removed, a member user deleted) and only then; so does `lastModified`.
    - Adding or removing one member costs the same whatever the group's size: no method reads or
      rewrites the whole member list except to return it (`include_members`) or to replace it,
      and where the directory itself only takes whole lists (brig: one `PUT /i/user-groups` with
      the list read once from the gateway's mirror, docs/backend-calls.md "Groups").
    - Deleting a user removes it from its groups in the same write.
    """

    async def ensure_team(self, team: str) -> None:
        """Make sure `team` exists (the embedded backend creates it; brig checks it)."""

    async def default_locale(self) -> str | None:
        """Wire's locale for a user created without one when the backend has its own (brig's), else None."""

    async def get_user(self, team: str, user_id: str) -> WireUser: ...

    async def search_users(self, team: str, query: UserQuery) -> Page:
        """The page of users matching `query`; raises InvalidFilter for unsupported filters."""

    async def create_user(self, team: str, new: NewUser) -> WireUser: ...

    async def update_user(
        self, team: str, user_id: str, fields: UserFields, *, expected_version: str | None = None
    ) -> WireUser: ...

    async def delete_user(self, team: str, user_id: str) -> bool:
        """Delete; True when a user was deleted, False when there was none (not an error)."""

    async def accept_invitation(self, team: str, user_id: str) -> WireUser:
        """The invited user accepted: pending-invitation becomes active."""

    async def get_group(self, team: str, group_id: str, *, include_members: bool = True) -> WireGroup:
        """The group; `members` is None unless `include_members` (then sorted user ids)."""

    async def search_groups(self, team: str, query: GroupQuery) -> GroupPage:
        """
        The page of groups matching `query` (filter on displayName, externalId, id,
        members.value, meta dates; InvalidFilter otherwise), in creation order unless sorted.
        The total of an unfiltered query and a page without members cost the same whatever the
        number of groups.
        """

    async def create_group(self, team: str, new: NewGroup) -> WireGroup:
        """Create with its members (InvalidValue / Uniqueness as in the class docstring)."""

    async def edit_group(
        self,
        team: str,
        group_id: str,
        edits: Sequence[GroupEdit],
        *,
        expected_version: str | None = None,
        include_members: bool = False,
    ) -> WireGroup:
        """
        Apply `edits` in order, all or none: NotFound for an unknown group, PreconditionFailed
        when `expected_version` is given and differs. That comparison is If-Match's one check
        (the service only turns the header into a version): it is made inside the write, and a
        write that finds the version moved under it raises PreconditionFailed rather than
        trying again, since the caller planned the edits on that version. Edits that change
        nothing leave version and lastModified as they were. Returns the group after the edits.
        """

    async def delete_group(self, team: str, group_id: str) -> bool:
        """Delete with its memberships; True when a group was deleted, False when there was none."""

    async def check(self) -> None:
        """Raise if the backend cannot serve requests (used by /i/status)."""

    async def close(self) -> None: ...


class MemberRule(Protocol):
    """
    Wire's rule for the members of a group, written once (gateway/provisioning/group_members.py)
    and given to each backend by gateway/app.py: the backend finds the facts inside its own write
    (which asked ids are users it accepts, which are the team's groups) and asks the rule what to
    store, so that the check and the change stay one unit of work.
    """

    def __call__(
        self,
        asked: Sequence[str],
        *,
        users: Collection[str],
        groups: Collection[str],
        checked_in_wire: bool = False,
    ) -> tuple[str, ...]:
        """
        The ids of `asked` to store, in its order: those in `users`; ids in `groups` are
        skipped; InvalidValue names the others. `checked_in_wire`: `users` also passed Wire's own
        check (alive in brig, in the team, managed by SCIM), which the detail then says.
        """
        ...


class IssuerLookup(Protocol):
    """
    The SAML issuer (the IdP's metadata issuer URI, what spar writes as a user's `sso_id.tenant`
    and compares at login) of a team's IdP, by the IdP id a token carries. Given to the brig
    backend by gateway/app.py: from spar's `GET /i/identity-providers/:tid` when `backend.spar_url`
    is set (gateway/backend/brig/idp_issuers.py), else from the gateway's IdP registry
    (gateway/provisioning/idps.py, `scim-gateway idp add --issuer`).
    """

    async def issuer_of(self, team: str, idp_id: str) -> str:
        """The issuer URI; a ScimError whose detail tells the operator what to fix when there is none."""
        ...

    async def idps_of(self, team: str) -> Sequence[tuple[str, str | None]]:
        """The team's IdPs as (id, issuer URI or None when not known)."""
        ...


@runtime_checkable
class UserDocumentStore(Protocol):
    """
    A backend that keeps each user's rendered document with the user (the embedded one, given a
    DocumentRenderer, gateway/backend/documents.py; gateway/backend/embedded/documents.py), so
    that list pages need no rendering.
    """

    async def search_user_documents(self, team: str, query: UserQuery) -> DocumentPage | None:
        """`search_users`'s page as documents; None when this backend was given no renderer."""

    async def user_document(self, team: str, user_id: str) -> tuple[UserDocument, str] | None:
        """
        The user as its stored document with its groups, and its version; None when this backend
        was given no renderer or the stored document is not current (then read `get_user`).
        NotFound when there is no such user.
        """

    async def refresh_documents(self, *, batch: int = 500) -> int:
        """Store the documents that are not current (once per renderer key); how many."""

    def reads_together(self) -> AbstractContextManager[None]:
        """
        A block whose reads that do not wait (`user_document`, `search_user_documents` of a user
        by a unique attribute or of a bounded page) share one snapshot of the store: the caller
        begins it only after every request it answers arrived (gateway/db/sqlite.py).
        """
