"""
SCIM bearer tokens made and checked as Wire's spar does: 32 random bytes, base64 (44 characters),
stored only as "sha512:" + base64(SHA-512(token)), so spar's stored hashes can be imported.

`TokenService` is the one way tokens are made, listed, renamed and revoked: the CLI
(`scim-gateway token ...`) and Wire's token API (gateway/provisioning/token_api.py) both use it.
A team's first token and the deletion of its last flip the SSO-invite switch; the store records
the flip in the same transaction, and `on_change` wakes this process's webhook deliverer.

With spar's own tables (`spar_state`, gateway/backend/spar_state/), spar's token tables are the
truth, as they are for Wire: a token is valid when spar's `team_provisioning_by_token` holds it
(a token made in Team Settings or by wire_scim_token.py works at once, no import; one deleted
there stops within `spar_state.token_cache_seconds`, the time spar_state keeps a found token);
tokens made here are written there too, so spar's auto-provisioning guard sees them and the
SSO-invite switch holds in Wire itself; listing and counting read spar's tables. The gateway's
store keeps its own copy (last use, the switch's outbox).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import datetime

import structlog

from gateway.backend.base import Backend
from gateway.backend.spar_state.model import SparState, TokenInfo
from gateway.clock import format_time, now_text
from gateway.scim.errors import Forbidden, Unauthorized
from gateway.store.base import Store, TokenLimitReached, TokenRecord

log = structlog.get_logger()

# How often the last_used_at column is written per token: use is recorded, not every request.
TOUCH_INTERVAL_SECONDS = 60.0
# Token records read from a store with a token generation (SQLite) are kept while it stays the
# same, and at most this long: the bound for changes that bypass the gateway (an operator's
# sqlite3 shell) or an epoch file deleted under a running gateway.
CACHE_SECONDS = 5.0
CACHE_ENTRIES = 4096  # tokens kept at most (8 per team by default); the cache is emptied beyond


class TokenLimitExceeded(Forbidden):
    """The team holds `limits.tokens_per_team` tokens already (Wire: 403 token-limit-reached)."""


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

    def __init__(
        self,
        store: Store,
        backend: Backend,
        *,
        max_per_team: int,
        on_change: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        spar: SparState | None = None,
    ) -> None:
        """
        `on_change(team)` is called after each token added or revoked (it may have flipped the
        switch); `spar`: spar's own tables, then the truth for tokens (see the module docstring).
        """
        self._store = store
        self._spar = spar
        self._backend = backend
        self._max_per_team = max_per_team
        self._on_change = on_change
        self._clock = clock
        self._touched: dict[str, float] = {}
        self._touching: set[asyncio.Task[None]] = set()
        # token hash -> (record, the store's token generation before it was read, when read)
        self._known: dict[str, tuple[TokenRecord, int, float]] = {}  # by Authorization header
        self._known_generation: int | None = None  # the token generation of the records in _known

    async def create(
        self, team: str, *, description: str = "", name: str | None = None, idp: str | None = None
    ) -> tuple[str, TokenRecord]:
        """Make a token for `team`; returns (the secret, shown once, and its record)."""
        await self._backend.ensure_team(team)
        secret = new_token_secret()
        token_id = str(uuid.uuid4())
        record = TokenRecord(
            id=token_id,
            team=team,
            hash=hash_token(secret),
            created_at=now_text(),
            description=description,
            name=name or token_id,
            idp=idp,
        )
        await self._add(record)
        if self._spar is not None:
            try:
                await self._spar.token_insert(secret, _spar_info(record))
            except BaseException:
                await asyncio.shield(self._store.revoke_token(team, token_id))  # made in neither, then
                self._changed(team)
                raise
        return secret, record

    async def import_record(self, record: TokenRecord) -> bool:
        """Store a token made elsewhere (spar); False when a token with that id already exists."""
        existing = await self._store.list_tokens(record.team)
        if any(t.id == record.id or t.hash == record.hash for t in existing):
            return False
        await self._backend.ensure_team(record.team)
        await self._add(record)
        return True

    async def copy_to_spar(self, team: str) -> int:
        """
        With spar_state: write the team's tokens the gateway made before spar_state was on into
        spar's tables (by their hash), so they keep working now that spar's tables are the truth;
        how many were copied. An explicit step, never automatic, to run once right after turning
        spar_state on: a token deleted in Team Settings must not come back, and a later run would
        bring back one deleted there since (the gateway's store keeps its copy).
        """
        if self._spar is None:
            raise ValueError("spar_state is not configured (spar_state.kind: cassandra)")
        in_spar = {str(t.id) for t in await self._spar.tokens_of_team(uuid.UUID(team))}
        copied = 0
        for record in await self._store.list_tokens(team):
            if record.id not in in_spar:
                await self._spar.token_insert_hashed(record.hash, _spar_info(record))
                copied += 1
        if copied:
            self._changed(team)
        return copied

    async def _add(self, record: TokenRecord) -> None:
        try:
            await self._store.add_token(record, max_per_team=self._max_per_team)
        except TokenLimitReached as exc:
            raise TokenLimitExceeded(str(exc)) from None
        self._changed(record.team)

    async def list(self, team: str) -> list[TokenRecord]:
        """The team's tokens: spar's (with spar_state; last use from the gateway's copy), else the store's."""
        own = await self._store.list_tokens(team)
        if self._spar is None:
            return own
        used = {t.id: t.last_used_at for t in own}
        return [
            _record_of(info, last_used_at=used.get(str(info.id)))
            for info in await self._spar.tokens_of_team(uuid.UUID(team))
        ]

    async def revoke(self, team: str, token_id: str) -> bool:
        revoked = await self._store.revoke_token(team, token_id)
        if self._spar is not None:
            known = any(str(t.id) == token_id for t in await self._spar.tokens_of_team(uuid.UUID(team)))
            if known:
                await self._spar.token_delete(uuid.UUID(team), uuid.UUID(token_id))
            revoked = revoked or known
        if revoked:
            self._changed(team)
        return revoked

    async def rename(self, team: str, token_id: str, name: str) -> bool:
        renamed = await self._store.rename_token(team, token_id, name)
        if self._spar is not None:
            known = any(str(t.id) == token_id for t in await self._spar.tokens_of_team(uuid.UUID(team)))
            if known:
                await self._spar.token_rename(uuid.UUID(team), uuid.UUID(token_id), name)
            renamed = renamed or known
        return renamed

    async def count(self, team: str) -> int:
        """The team's tokens now (spar's with spar_state): the SSO-invite switch is on exactly when this is 0."""
        if self._spar is not None:
            return len(await self._spar.tokens_of_team(uuid.UUID(team)))
        return await self._store.count_tokens(team)

    def _changed(self, team: str) -> None:
        if self._on_change is not None:
            self._on_change(team)

    async def verify(self, authorization: str | None) -> TokenRecord:
        """The token record for an Authorization header; Unauthorized, the same for every cause."""
        record = self._cached(authorization)
        if record is None:
            token = bearer_token(authorization)
            record = None if token is None else await self._find_token(token, authorization)
        if record is None:
            raise Unauthorized(
                "authorization failed: send a valid SCIM token as 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": 'Bearer realm="scim"'},
            )
        self._used(record)
        return record

    def verified(self, authorization: str | None) -> TokenRecord | None:
        """
        `verify` without reading anything: the record when this header was verified lately (its
        record cached, see `_cached`), else None, also for a header that would fail: then `verify`.
        """
        record = self._cached(authorization)
        if record is not None:
            self._used(record)
        return record

    def remembers_verified(self) -> bool:
        """
        Whether `verified` can ever answer: only a store with a token generation caches the
        records it read (`_find`); spar's tokens and the PostgreSQL store's are read each time.
        """
        return self._spar is None and self._store.token_generation() is not None

    def _used(self, record: TokenRecord) -> None:
        """Record the token's use, at most once per TOUCH_INTERVAL_SECONDS."""
        now = self._clock()
        if now - self._touched.get(record.id, -TOUCH_INTERVAL_SECONDS) >= TOUCH_INTERVAL_SECONDS:
            self._touched[record.id] = now
            # Off the request path: a read must not wait behind a write for a timestamp.
            task = asyncio.create_task(self._touch(record.id, now_text()))
            self._touching.add(task)
            task.add_done_callback(self._touching.discard)

    async def _find_token(self, token: str, authorization: str | None) -> TokenRecord | None:
        """spar's row for the token with spar_state (the truth, cached by spar_state), else the store's."""
        if self._spar is None:
            return await self._find(hash_token(token), authorization)
        info = await self._spar.token_lookup(token)
        return None if info is None else _record_of(info, token_hash=hash_token(token))

    def _cached(self, authorization: str | None) -> TokenRecord | None:
        """
        The record read for this very Authorization header, while the store's token generation
        stays the one it was read under and for at most CACHE_SECONDS (see `_find`): the header
        is the key, so a known token costs neither parsing nor SHA-512. In this process's memory
        only, as the header itself is while the request lasts.
        """
        known = self._known.get(authorization) if authorization else None
        if known is None:
            return None
        record, generation, read_at = known
        if generation != self._store.token_generation() or self._clock() - read_at >= CACHE_SECONDS:
            return None
        return record

    async def _find(self, token_hash: str, authorization: str | None) -> TokenRecord | None:
        """
        The record, read again only when the store's token generation moved (a token was made,
        renamed or revoked by any process) or CACHE_SECONDS passed: a revocation is seen by the
        next request. The generation is read before the record, so a record read just before a
        revocation is cached under the old generation and dropped at once. Unknown tokens are
        never cached: every wrong token costs a read. The cache is keyed by the Authorization
        header (`_cached`).
        """
        generation = self._store.token_generation()
        if generation is None:
            return await self._store.find_token(token_hash)
        now = self._clock()
        record = await self._store.find_token(token_hash)
        if authorization is None:
            return record
        if record is None:
            self._known.pop(authorization, None)
            return None
        if len(self._known) >= CACHE_ENTRIES or generation != self._known_generation:
            self._known.clear()  # a new generation: no header of a revoked token stays in memory
            self._known_generation = generation
        self._known[authorization] = (record, generation, now)
        return record

    async def _touch(self, token_id: str, when: str) -> None:
        try:
            await self._store.touch_token(token_id, when)
        except Exception as exc:  # noqa: BLE001 - a lost "last used" time is not worth failing anything for
            log.warning("token_touch_failed", token_id=token_id, error=type(exc).__name__)

    async def drain(self) -> None:
        """Wait for pending last-used writes (before the store closes)."""
        if self._touching:
            await asyncio.gather(*self._touching, return_exceptions=True)


def _spar_info(record: TokenRecord) -> TokenInfo:
    """A token's row in spar's tables (ScimTokenInfo) from the gateway's record."""
    return TokenInfo(
        team=uuid.UUID(record.team),
        id=uuid.UUID(record.id),
        created_at=datetime.fromisoformat(record.created_at.replace("Z", "+00:00")),
        idp=None if record.idp is None else uuid.UUID(record.idp),
        descr=record.description,
        name=record.name,
    )


def _record_of(info: TokenInfo, *, token_hash: str = "", last_used_at: str | None = None) -> TokenRecord:
    """The gateway's record of a token in spar's tables (`token_hash` unknown when listed)."""
    return TokenRecord(
        id=str(info.id),
        team=str(info.team),
        hash=token_hash,
        created_at=format_time(info.created_at),
        description=info.descr,
        name=info.name,
        idp=None if info.idp is None else str(info.idp),
        last_used_at=last_used_at,
    )
