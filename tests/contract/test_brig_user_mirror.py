"""The brig backend's externalId index (gateway/backend/brig/user_mirror.py), on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.backend.brig import user_mirror
from gateway.db.dialect import Database
from gateway.scim.errors import Uniqueness
from test_backend import TEAM, gateway_database


@pytest.fixture(name="db", params=["sqlite", "postgres"])
async def _db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with gateway_database(tmp_path, request.param) as db:
        yield db


async def test_a_move_takes_over_its_own_entry_and_refuses_another_users(db: Database) -> None:
    """A retried move finds its own `moving` entry (one transaction, no failed statement in it)."""
    await db.write(lambda conn: user_mirror.claim(conn, TEAM, "e1", "u1", 1.0))
    await db.write(lambda conn: user_mirror.hold_move(conn, TEAM, "u1", "e2", 2.0))

    await db.write(lambda conn: user_mirror.hold_move(conn, TEAM, "u1", "e2", 3.0))  # the retry
    with pytest.raises(Uniqueness):
        await db.write(lambda conn: user_mirror.hold_move(conn, TEAM, "u2", "e2", 4.0))

    claim = await db.read(lambda conn: user_mirror.get_claim(conn, TEAM, "e2"))
    assert claim == user_mirror.Claim("u1", "moving", 3.0)
