"""
The values spar's tables hold and the `SparState` interface over them. Implementations: the
Cassandra one (`cassandra.py`, spar's own keyspace); with `spar_state.kind: none` there is none and
the brig backend keeps this state in the gateway's database as before.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class CreationStatus(enum.IntEnum):
    """`scim_external.creation_status` (`Cql ScimUserCreationStatus`, services/spar/src/Spar/Data/Instances.hs)."""

    CREATED = 0
    CREATING = 1


@dataclass(frozen=True, slots=True)
class ExternalIdEntry:
    """A `scim_external` row: the user an externalId names in a team, and spar's crash-safety marker."""

    user: UUID
    # A row without the column reads as CREATED (lookupScimExternalIdStatus: `fromMaybe ScimUserCreated`).
    status: CreationStatus


@dataclass(frozen=True, slots=True)
class UserTimes:
    """A `scim_user_times` row: the SCIM `meta.created` and `meta.lastModified` spar renders (milliseconds)."""

    created_at: datetime
    last_updated_at: datetime


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token's row (`ScimTokenInfo`, libs/wire-api/src/Wire/API/User/Scim.hs); never the token itself."""

    team: UUID
    id: UUID
    created_at: datetime
    idp: UUID | None
    descr: str
    # spar's `fromMaybe (idToText stiId) stiName`: a row without a name is named by its id.
    name: str


class SparState(Protocol):
    """
    spar's SCIM state, read and written as spar's SCIM does. Every method is one call of spar's
    store (its function named in the docstring); none checks a Wire rule. Failures to reach the
    database raise `gateway.scim.errors.ScimError` 503 (no node answers) or 504 (past
    `spar_state.request_timeout_seconds`), with Retry-After.
    """

    async def saml_user_get(self, issuer: str, external_id: str) -> UUID | None:
        """getSAMLUser: the user of (issuer, NameID); a row only in the legacy `user` table is copied to `user_v2`."""
        ...

    async def saml_user_put(self, issuer: str, external_id: str, user: UUID) -> None:
        """insertSAMLUser: (issuer, normalized NameID) -> user, overwriting."""
        ...

    async def saml_user_delete(self, issuer: str, external_id: str, user: UUID) -> None:
        """deleteSAMLUser: remove (issuer, NameID) only if it names `user` (legacy row first, as spar)."""
        ...

    async def external_id_get(self, team: UUID, external_id: str) -> ExternalIdEntry | None:
        """lookupScimExternalIdStatus (lookupScimExternalId is its `user`)."""
        ...

    async def external_id_put(
        self, team: UUID, external_id: str, user: UUID, status: CreationStatus | None = None
    ) -> None:
        """insertScimExternalIdStatus with a status; insertScimExternalId without (the marker is left as it was)."""
        ...

    async def external_id_delete(self, team: UUID, external_id: str) -> None:
        """deleteScimExternalId."""
        ...

    async def user_times_get(self, user: UUID) -> UserTimes | None:
        """readScimUserTimes."""
        ...

    async def user_times_put(self, user: UUID, times: UserTimes) -> None:
        """writeScimUserTimes (times kept to the millisecond, as spar's UTCTimeMillis)."""
        ...

    async def user_times_delete(self, user: UUID) -> None:
        """deleteScimUserTimes."""
        ...

    async def token_lookup(self, token: str) -> TokenInfo | None:
        """lookupScimToken: by hash, or a plaintext row (then converted to a hashed one, as spar does)."""
        ...

    async def tokens_of_team(self, team: UUID) -> list[TokenInfo]:
        """getScimTokens: the team's tokens, oldest first."""
        ...

    async def token_insert(self, token: str, info: TokenInfo) -> None:
        """insertScimToken: both tables in one logged batch, keyed by the token's hash."""
        ...

    async def token_insert_hashed(self, key: str, info: TokenInfo) -> None:
        """As token_insert, for a token known only by its `sha512:` hash (a token the gateway made earlier)."""
        ...

    async def token_delete(self, team: UUID, token_id: UUID) -> None:
        """deleteScimToken."""
        ...

    async def tokens_delete_team(self, team: UUID) -> None:
        """deleteTeamScimTokens."""
        ...

    async def token_rename(self, team: UUID, token_id: UUID, name: str) -> None:
        """updateScimTokenName."""
        ...

    async def close(self) -> None: ...
