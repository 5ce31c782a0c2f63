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


class Store(Protocol):
    """
    Contract (tests/contract/test_store.py):
    - `add_token` is atomic with its limit check: N concurrent adds with room for one give one.
    - `find_token` sees a revocation at once (no caching here; callers may cache, briefly).
    - Records come back as they were stored; `hash` is never the plaintext token.
    """

    async def add_token(self, record: TokenRecord, *, max_per_team: int) -> None:
        """Store `record`; raise TokenLimitReached when the team already has `max_per_team`."""

    async def find_token(self, token_hash: str) -> TokenRecord | None: ...

    async def list_tokens(self, team: str) -> list[TokenRecord]:
        """The team's tokens, oldest first."""

    async def revoke_token(self, team: str, token_id: str) -> bool:
        """Delete; True when there was such a token in that team."""

    async def touch_token(self, token_id: str, when: str) -> None:
        """Record that the token was used at `when`."""

    async def check(self) -> None:
        """Raise if the store cannot serve requests."""

    async def close(self) -> None: ...
