"""
The `Store` protocol: the gateway's own state, beside the users (which live in the backend).
Tokens are kept only as their hash; see gateway/provisioning/tokens.py for how they are made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """A SCIM token as stored: everything but the secret, which only exists as `hash`."""

    id: str
    team: str
    hash: str  # "sha512:" + base64(SHA-512(token)), as Wire's spar stores it
    created_at: str
    description: str
    name: str
    idp: str | None = None
    last_used_at: str | None = None


class TokenLimitReached(Exception):
    """The team already holds as many tokens as it may."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IdpRecord:
    """A SAML IdP of a team, as the gateway's registry knows it (spar keeps the IdP itself)."""

    id: str
    team: str
    description: str
    created_at: str
    issuer: str | None = None  # its SAML metadata issuer URI (sso_id.tenant); None: not given yet


class IdpInUse(Exception):
    """The IdP cannot be removed: tokens still point to it (their ids in `token_ids`)."""

    def __init__(self, idp: str, token_ids: list[str]) -> None:
        super().__init__(f"IdP {idp} is used by the tokens {', '.join(token_ids)}; revoke them first")
        self.token_ids = token_ids


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchFlip:
    """
    One flip of a team's SSO-invite switch (its first token made, or its last one deleted), as
    the outbox keeps it until the webhook has taken it. `seq` orders the flips of a team.
    """

    seq: int
    team: str
    sso_invites_enabled: bool
    changed_at: str
    attempts: int = 0
    delivered_at: str | None = None


class Store(Protocol):
    """
    Contract (tests/contract/test_store.py):
    - `add_token` is atomic with its limit check: N concurrent adds with room for one give one.
    - `find_token` sees a revocation at once (no caching here). A caller may keep a record it
      read while `token_generation()` returns what it returned before that read: every change to
      the tokens, by any process, moves it. None means the store cannot tell; read every time.
    - Records come back as they were stored; `hash` is never the plaintext token.
    """

    async def add_token(self, record: TokenRecord, *, max_per_team: int) -> None:
        """
        Store `record`; raise TokenLimitReached when the team already has `max_per_team`.
        A team's first token writes a SwitchFlip (invites off) in the same transaction.
        """

    async def find_token(self, token_hash: str) -> TokenRecord | None: ...

    def token_generation(self) -> int | None:
        """Cheap enough for every request (no I/O, no query); see the contract above."""

    async def list_tokens(self, team: str) -> list[TokenRecord]:
        """The team's tokens, oldest first."""

    async def revoke_token(self, team: str, token_id: str) -> bool:
        """
        Delete; True when there was such a token in that team. Deleting a team's last token
        writes a SwitchFlip (invites on) in the same transaction.
        """

    async def rename_token(self, team: str, token_id: str, name: str) -> bool:
        """Set the token's name; True when there was such a token in that team."""

    async def count_tokens(self, team: str) -> int:
        """How many tokens the team holds now (the SSO-invite switch is off while it is above 0)."""

    async def touch_token(self, token_id: str, when: str) -> None:
        """Record that the token was used at `when`."""

    # --- the IdP registry (gateway/store/token_api_sql.py) ---------------------------------

    async def add_idp(self, record: IdpRecord) -> bool:
        """Register an IdP; False when its id is registered already (in any team)."""

    async def list_idps(self, team: str) -> list[IdpRecord]:
        """The team's IdPs, oldest first."""

    async def remove_idp(self, team: str, idp_id: str) -> bool:
        """Forget an IdP; IdpInUse while tokens point to it; False when the team has no such IdP."""

    async def set_idp_issuer(self, team: str, idp_id: str, issuer: str) -> bool:
        """Set the IdP's issuer URI; False when the team has no such IdP."""

    async def list_idps_without_issuer(self) -> list[IdpRecord]:
        """Every team's IdPs that have no issuer yet, oldest first (what check-config warns about)."""

    # --- the SSO-invite switch's outbox ------------------------------------------------------

    async def claim_switch_flips(self, *, now: float, lease_seconds: float, limit: int) -> list[SwitchFlip]:
        """
        The flips due for delivery, at most one per team (its oldest undelivered one, and only
        when no other deliverer holds it), each leased to the caller until `now + lease_seconds`.
        """

    async def switch_flip_delivered(self, seq: int, *, when: str) -> None: ...

    async def switch_flip_failed(self, seq: int, *, error: str, retry_at: float) -> None:
        """Count the attempt, release the lease, and make the flip due again at `retry_at`."""

    async def list_switch_flips(self, team: str) -> list[SwitchFlip]:
        """Every recorded flip of the team, delivered or not, in order."""

    async def switch_outbox_backlog(self) -> tuple[int, str | None]:
        """Undelivered flips, all teams: (how many, the oldest one's `changed_at` or None); one query."""

    async def check(self) -> None:
        """Raise if the store cannot serve requests."""

    async def close(self) -> None: ...
