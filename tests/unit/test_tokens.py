"""SCIM bearer tokens as Wire's spar makes and checks them (provisioning/tokens.py)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.provisioning.tokens import TokenService, bearer_token, hash_token, new_token_secret
from gateway.scim.errors import Forbidden, Unauthorized
from gateway.store.sqlite import SqliteStore

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
