"""SCIM bearer tokens as Wire's spar makes and checks them (provisioning/tokens.py)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from gateway.provisioning.tokens import (
    CACHE_SECONDS, TokenService, bearer_token, hash_token, new_token_secret,
)
from gateway.provisioning import tokens as tokens_module
from gateway.scim.errors import Forbidden, Unauthorized
from gateway.store.sqlite import SqliteStore
from gateway.store.token_epoch import TokenEpoch

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
KNOWN_TOKEN = "3Ppa8LnCTxOsCIZbCMvJQoiCeRAzdEHHVNmlWVCDdTs="


class TestHash:
    def test_hash_has_spars_form(self) -> None:
        """A token is stored as "sha512:" + base64(SHA-512(token)), as spar stores it."""
        digest = hashlib.sha512(KNOWN_TOKEN.encode("ascii")).digest()

        assert "sha512:" + base64.b64encode(digest).decode("ascii") == hash_token(KNOWN_TOKEN)

    def test_hash_is_stable_and_distinct(self) -> None:
        """The same token always hashes alike; different tokens do not."""
        assert hash_token(KNOWN_TOKEN) == hash_token(KNOWN_TOKEN)
        assert hash_token(KNOWN_TOKEN) != hash_token(KNOWN_TOKEN[:-2] + "A=")

    def test_hash_does_not_contain_the_token(self) -> None:
        """The hash gives the token away neither whole nor in part of its text."""
        assert KNOWN_TOKEN[:-1] not in hash_token(KNOWN_TOKEN)


class TestSecret:
    def test_secret_is_base64_of_32_bytes(self) -> None:
        """A new token is 44 characters: base64 of 32 random bytes."""
        secret = new_token_secret()

        assert (44, 32) == (len(secret), len(base64.b64decode(secret, validate=True)))

    def test_secrets_differ(self) -> None:
        """Every new token is different."""
        assert 50 == len({new_token_secret() for _ in range(50)})


class TestBearer:
    @pytest.mark.parametrize(
        "header",
        [f"Bearer {KNOWN_TOKEN}", f"bearer {KNOWN_TOKEN}", f"BEARER {KNOWN_TOKEN}",
         f"  Bearer {KNOWN_TOKEN}  ", f"Bearer    {KNOWN_TOKEN}"],
    )  # fmt: skip
    def test_bearer_token_is_read(self, header: str) -> None:
        """The scheme is case-insensitive; spaces around the token do not matter."""
        assert KNOWN_TOKEN == bearer_token(header)

    @pytest.mark.parametrize(
        "header",
        [None, "", "Bearer", "Bearer ", "Bearer    ", f"Basic {KNOWN_TOKEN}", f"Bearer{KNOWN_TOKEN}",
         f"Token {KNOWN_TOKEN}", f"Bearer {KNOWN_TOKEN} extra", KNOWN_TOKEN],
    )  # fmt: skip
    def test_missing_or_malformed_header_gives_no_token(self, header: str | None) -> None:
        """A missing header, another scheme, no token or two words after Bearer give no token."""
        assert None is bearer_token(header)


class _TeamsAnywhere:
    async def ensure_team(self, team: str) -> None:
        return None


@pytest.fixture(name="service")
async def _service(tmp_path: Path) -> AsyncIterator[TokenService]:
    store = await SqliteStore.open(str(tmp_path / "gw.db"))
    try:
        yield TokenService(store, _TeamsAnywhere(), max_per_team=2)  # type: ignore[arg-type]
    finally:
        await store.close()


class TestService:
    async def test_verify_gives_the_tokens_record(self, service: TokenService) -> None:
        """verify of a valid Authorization header returns the token's record."""
        secret, record = await service.create(TEAM, description="Entra")

        assert record == await service.verify(f"Bearer {secret}")

    @pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz"])
    async def test_verify_refuses_alike_for_every_cause(self, service: TokenService, header: str | None) -> None:
        """A missing, unknown or non-Bearer credential is one 401 with WWW-Authenticate."""
        await service.create(TEAM)

        with pytest.raises(Unauthorized) as caught:
            await service.verify(header)
        assert {"WWW-Authenticate": 'Bearer realm="scim"'} == caught.value.headers

    async def test_revoked_token_is_refused_at_once(self, service: TokenService) -> None:
        """After revoke, verify refuses the token."""
        secret, record = await service.create(TEAM)
        await service.revoke(TEAM, record.id)

        with pytest.raises(Unauthorized):
            await service.verify(f"Bearer {secret}")

    async def test_use_is_recorded(self, service: TokenService) -> None:
        """verify records when the token was last used (in the background, drained here)."""
        secret, _ = await service.create(TEAM)
        await service.verify(f"Bearer {secret}")
        await service.drain()

        (listed,) = await service.list(TEAM)

        assert None is not listed.last_used_at

    async def test_limit_is_forbidden(self, service: TokenService) -> None:
        """Past the team's limit create raises Forbidden (403)."""
        await service.create(TEAM)
        await service.create(TEAM)

        with pytest.raises(Forbidden):
            await service.create(TEAM)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestKnownTokens:
    """verify keeps records it read while the store's token generation stays put (SQLite)."""

    @pytest.fixture(name="reads")
    def _reads(self, service: TokenService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        """The hashes the service's store is asked for."""
        store = service._store  # noqa: SLF001
        seen: list[str] = []
        find = store.find_token

        async def counted(token_hash: str):  # type: ignore[no-untyped-def]
            seen.append(token_hash)
            return await find(token_hash)

        monkeypatch.setattr(store, "find_token", counted)
        return seen

    async def test_a_known_token_is_not_read_again_while_nothing_changed(
        self, service: TokenService, reads: list[str]
    ) -> None:
        """Three requests with one token read it once."""
        secret, _ = await service.create(TEAM)
        for _ in range(3):
            await service.verify(f"Bearer {secret}")

        assert [hash_token(secret)] == reads

    async def test_any_change_to_the_tokens_makes_it_read_again(
        self, service: TokenService, reads: list[str]
    ) -> None:
        """A new token elsewhere in the team moves the generation: the next request reads again."""
        secret, _ = await service.create(TEAM)
        await service.verify(f"Bearer {secret}")
        await service.create(TEAM)
        await service.verify(f"Bearer {secret}")

        assert 2 == len(reads)

    async def test_an_unknown_token_is_read_every_time(self, service: TokenService, reads: list[str]) -> None:
        """Wrong tokens are never remembered: each costs a read."""
        for _ in range(2):
            with pytest.raises(Unauthorized):
                await service.verify("Bearer nope")

        assert 2 == len(reads)

    async def test_a_known_token_costs_no_hash_under_any_spelling_of_its_header(
        self, service: TokenService, reads: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The cache is keyed by the header: a header seen before is neither parsed nor hashed again."""
        secret, _ = await service.create(TEAM)
        hashed: list[str] = []
        original = tokens_module.hash_token
        monkeypatch.setattr(tokens_module, "hash_token", lambda token: hashed.append(token) or original(token))
        for header in (f"Bearer {secret}", f"bearer {secret}", f"Bearer {secret}", f"bearer {secret}"):
            await service.verify(header)

        assert 2 == len(hashed) == len(reads)  # one per spelling, the first time it came

    async def test_a_new_generation_forgets_every_header_kept_before(self, service: TokenService) -> None:
        """A revoked token's header does not stay in memory until it comes again: the next read clears all."""
        revoked, record = await service.create(TEAM)
        kept, _ = await service.create(TEAM)
        await service.verify(f"Bearer {revoked}")
        await service.revoke(TEAM, record.id)

        await service.verify(f"Bearer {kept}")

        assert [f"Bearer {kept}"] == list(service._known)  # noqa: SLF001

    async def test_a_known_token_is_read_again_after_the_cache_time(self, tmp_path: Path) -> None:
        """The bound for edits that bypass the gateway (e.g. a DELETE in the sqlite3 shell)."""
        clock = _Clock()
        store = await SqliteStore.open(str(tmp_path / "gw.db"))
        try:
            service = TokenService(store, _TeamsAnywhere(), max_per_team=2, clock=clock)  # type: ignore[arg-type]
            secret, record = await service.create(TEAM)
            await service.verify(f"Bearer {secret}")
            await store.db.write(lambda conn: conn.execute("DELETE FROM tokens WHERE id = ?", (record.id,)))

            clock.now += CACHE_SECONDS - 0.1
            still_known = await service.verify(f"Bearer {secret}")
            clock.now += 0.2
            with pytest.raises(Unauthorized):
                await service.verify(f"Bearer {secret}")
        finally:
            await store.close()

        assert record == still_known

    async def test_a_token_revoked_through_another_store_is_refused_on_the_next_request(
        self, tmp_path: Path
    ) -> None:
        """Two stores on one file (as two processes): a revocation through one is seen by the other."""
        async with _two_processes(tmp_path) as (_, serving, revoking):
            secret, record = await serving.create(TEAM)
            await serving.verify(f"Bearer {secret}")

            await revoking.revoke(TEAM, record.id)

            with pytest.raises(Unauthorized):
                await serving.verify(f"Bearer {secret}")


@asynccontextmanager
async def _two_processes(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, TokenService, TokenService]]:
    """Two stores on one SQLite file, as two processes have: (serving store, serving, revoking)."""
    path = str(tmp_path / "gw.db")
    serving_store, revoking_store = await SqliteStore.open(path), await SqliteStore.open(path)
    try:
        yield (
            serving_store,
            TokenService(serving_store, _TeamsAnywhere(), max_per_team=2),  # type: ignore[arg-type]
            TokenService(revoking_store, _TeamsAnywhere(), max_per_team=2),  # type: ignore[arg-type]
        )
    finally:
        await serving_store.close()
        await revoking_store.close()


class TestTokenEpoch:
    def test_a_new_epoch_file_starts_at_zero_and_bump_raises_it(self, tmp_path: Path) -> None:
        epoch = TokenEpoch.beside(tmp_path / "gw.db")
        try:
            before = epoch.read()
            epoch.bump()
            epoch.bump()
            after = epoch.read()
        finally:
            epoch.close()

        assert ((tmp_path / "gw.db.token-epoch").is_file(), 0, 2) == (True, before, after)

    def test_a_bump_in_another_process_is_read_at_once(self, tmp_path: Path) -> None:
        """What a worker sees when the CLI revokes a token: the shared mapping, not a copy."""
        epoch = TokenEpoch.beside(tmp_path / "gw.db")
        try:
            before = epoch.read()
            code = (
                "import sys; from pathlib import Path; from gateway.store.token_epoch import TokenEpoch; "
                "e = TokenEpoch.beside(Path(sys.argv[1])); [e.bump() for _ in range(3)]; e.close()"
            )
            subprocess.run([sys.executable, "-c", code, str(tmp_path / "gw.db")], check=True, timeout=60)
            after = epoch.read()
        finally:
            epoch.close()

        assert 3 == after - before

    def test_a_new_epoch_file_takes_the_databases_mode(self, tmp_path: Path) -> None:
        """Whoever may write the database may raise the counter (the umask notwithstanding)."""
        database = tmp_path / "gw.db"
        database.write_bytes(b"")
        database.chmod(0o660)

        TokenEpoch.beside(database).close()

        assert 0o660 == stat.S_IMODE((tmp_path / "gw.db.token-epoch").stat().st_mode)

    @pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
    def test_a_new_epoch_file_made_by_root_belongs_to_the_databases_owner(self, tmp_path: Path) -> None:
        """`scim-gateway token revoke` run as root must not lock the service user out of the file."""
        database = tmp_path / "gw.db"
        database.write_bytes(b"")
        os.chown(database, 65534, 65534)

        TokenEpoch.beside(database).close()

        made = (tmp_path / "gw.db.token-epoch").stat()
        assert (65534, 65534) == (made.st_uid, made.st_gid)


async def test_a_record_read_while_it_was_being_revoked_is_not_kept(tmp_path: Path) -> None:
    """
    The generation is read before the record: a read that races a revocation returns the old
    record once (that request was already under way), and the next request reads again.
    """
    async with _two_processes(tmp_path) as (serving_store, serving, revoking):
        secret, record = await serving.create(TEAM)
        find = serving_store.find_token

        async def find_then_revoke(token_hash: str):  # type: ignore[no-untyped-def]
            found = await find(token_hash)
            await revoking.revoke(TEAM, record.id)  # lands after the read, before it is kept
            return found

        serving_store.find_token = find_then_revoke  # type: ignore[method-assign]
        during = await serving.verify(f"Bearer {secret}")
        serving_store.find_token = find  # type: ignore[method-assign]

        with pytest.raises(Unauthorized):
            await serving.verify(f"Bearer {secret}")

    assert record == during


class _Generation:
    """A store as `remembers_verified` sees it: only its token generation."""

    def __init__(self, generation: int | None) -> None:
        self.generation = generation

    def token_generation(self) -> int | None:
        return self.generation


@pytest.mark.parametrize(
    ("generation", "spar", "remembers"),
    [(7, False, True), (None, False, False), (7, True, False)],
    ids=["SQLite's generation", "no generation (PostgreSQL)", "spar's tokens"],
)
def test_only_a_store_with_a_token_generation_lets_verified_tokens_be_remembered(
    generation: int | None, spar: bool, remembers: bool
) -> None:
    """The fast lane (gateway/web/fast_lane.py) is on only where `verified` can answer."""
    service = TokenService(
        _Generation(generation),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        max_per_team=8,
        spar=object() if spar else None,  # type: ignore[arg-type]
    )
    assert service.remembers_verified() is remembers
