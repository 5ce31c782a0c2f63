"""
SCIM bearer tokens made and checked as Wire's spar does: 32 random bytes, base64 (44 characters),
stored only as "sha512:" + base64(SHA-512(token)), so spar's stored hashes can be imported.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
import uuid

import structlog

from gateway.backend.base import Backend
from gateway.backend.models import now_text
from gateway.scim.errors import Forbidden, Unauthorized
from gateway.store.base import Store, TokenLimitReached, TokenRecord

log = structlog.get_logger()

# How often the last_used_at column is written per token: use is recorded, not every request.
TOUCH_INTERVAL_SECONDS = 60.0


def new_token_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def hash_token(token: str) -> str:
    return "sha512:" + base64.b64encode(hashlib.sha512(token.encode("utf-8")).digest()).decode("ascii")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


class TokenService:
    """Create, list, revoke and verify SCIM tokens; one service for the CLI and the API."""

    def __init__(self, store: Store, backend: Backend, *, max_per_team: int) -> None:
        self._store = store
        self._backend = backend
        self._max_per_team = max_per_team
        self._touched: dict[str, float] = {}
        self._touching: set[asyncio.Task[None]] = set()

    async def create(
        self, team: str, *, description: str = "", name: str | None = None, idp: str | None = None
    ) -> tuple[str, TokenRecord]:
        """Make a token for `team`; returns (the secret, shown once, and its record)."""
        await self._backend.ensure_team(team)
        secret = new_token_secret()
        token_id = str(uuid.uuid4())
        record = TokenRecord(
            id=token_id, team=team, hash=hash_token(secret), created_at=now_text(),
            description=description, name=name or token_id, idp=idp,
        )  # fmt: skip
        try:
            await self._store.add_token(record, max_per_team=self._max_per_team)
        except TokenLimitReached as exc:
            raise Forbidden(str(exc)) from None
        return secret, record

    async def import_record(self, record: TokenRecord) -> bool:
        """Store a token made elsewhere (spar); False when a token with that id already exists."""
        existing = await self._store.list_tokens(record.team)
        if any(t.id == record.id or t.hash == record.hash for t in existing):
            return False
        await self._backend.ensure_team(record.team)
        try:
            await self._store.add_token(record, max_per_team=self._max_per_team)
        except TokenLimitReached as exc:
            raise Forbidden(str(exc)) from None
        return True

    async def list(self, team: str) -> list[TokenRecord]:
        return await self._store.list_tokens(team)

    async def revoke(self, team: str, token_id: str) -> bool:
        return await self._store.revoke_token(team, token_id)

    async def verify(self, authorization: str | None) -> TokenRecord:
        """The token record for an Authorization header; Unauthorized, the same for every cause."""
        token = bearer_token(authorization)
        record = None if token is None else await self._store.find_token(hash_token(token))
        if record is None:
            raise Unauthorized(
                "authorization failed: send a valid SCIM token as 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": 'Bearer realm="scim"'},
            )
        now = time.monotonic()
        if now - self._touched.get(record.id, -TOUCH_INTERVAL_SECONDS) >= TOUCH_INTERVAL_SECONDS:
            self._touched[record.id] = now
            # Off the request path: a read must not wait behind a write for a timestamp.
            task = asyncio.create_task(self._touch(record.id, now_text()))
            self._touching.add(task)
            task.add_done_callback(self._touching.discard)
        return record

    async def _touch(self, token_id: str, when: str) -> None:
        try:
            await self._store.touch_token(token_id, when)
        except Exception as exc:  # a lost "last used" time is not worth failing anything for
            log.warning("token_touch_failed", token_id=token_id, error=type(exc).__name__)

    async def drain(self) -> None:
        """Wait for pending last-used writes (before the store closes)."""
        if self._touching:
            await asyncio.gather(*self._touching, return_exceptions=True)
