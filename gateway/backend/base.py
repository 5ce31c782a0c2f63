"""
The `Backend` protocol: where Wire users live. Implementations do not inherit from it; the
contract suite in tests/contract/test_backend.py is what makes one correct.
"""

from __future__ import annotations

from typing import Protocol

from gateway.backend.models import NewUser, Page, UserFields, UserQuery, WireUser


class Backend(Protocol):
    """
    A directory of Wire team users.

    Contract:
    - Every method is scoped to `team`; users of other teams are invisible (NotFound).
    - Returns fresh frozen values; raises gateway.scim.errors.NotFound, Uniqueness (detail names
      `userName` or `externalId`) and PreconditionFailed; never HTTP or driver errors.
    - Handles are unique across all teams (as brig's); externalIds per team, case-sensitive.
    - A write either happens completely or not at all.
    - `update_user` with content equal to the stored content changes nothing (same version and
      lastModified). A pending invitation stays pending whatever `active` says.
    """

    async def ensure_team(self, team: str) -> None:
        """Make sure `team` exists (the embedded backend creates it; brig checks it)."""

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

    async def check(self) -> None:
        """Raise if the backend cannot serve requests (used by /i/status)."""

    async def close(self) -> None: ...
