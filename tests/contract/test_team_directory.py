"""
The TeamDirectory contract (gateway/backend/team_directory.py) on both implementations: the
embedded one (team members in the gateway's database) and the brig one (brig and galley, here
the real brig-lite app on a loopback port). Members are added where each keeps them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import running_brig_lite
from gateway.backend.brig.client import BrigClient, BrigSettings
from gateway.backend.brig.directory import BrigTeamDirectory
from gateway.backend.embedded.team_directory import EmbeddedTeamDirectory
from gateway.backend.team_directory import MemberExists, ReauthenticationFailed, TeamDirectory
from gateway.db.sqlite import SqliteDatabase

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
OTHER_TEAM = "d2a1c0de-1111-4222-8333-944455556666"
PASSWORD = "s3cret-pw"


@dataclass
class Subject:
    directory: TeamDirectory
    add: Callable[..., Awaitable[str]]  # add(team=, role=, email=, password=) -> user id


@asynccontextmanager
async def embedded(tmp: Path) -> AsyncIterator[Subject]:
    db = await SqliteDatabase.open(tmp / "gw.db")
    directory = EmbeddedTeamDirectory(db)

    async def add(**member: str) -> str:
        return (await directory.add_member(**member)).id

    try:
        yield Subject(directory, add)
    finally:
        await db.close()


@asynccontextmanager
async def brig(tmp: Path) -> AsyncIterator[Subject]:
    from gateway.brig_lite.app import add_member
    from gateway.config import BrigLite

    path = tmp / "brig-lite.db"
    async with running_brig_lite(path) as url:
        client = BrigClient(BrigSettings(brig_url=url, galley_url=url))

        async def add(**member: str) -> str:
            return await add_member(BrigLite(path=str(path)), **member)

        try:
            yield Subject(BrigTeamDirectory(client), add)
        finally:
            await client.close()


@pytest.fixture(name="subject", params=["embedded", "brig"])
async def _subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    async with {"embedded": embedded, "brig": brig}[request.param](tmp_path) as subject:
        yield subject


async def test_a_members_team_and_role(subject: Subject) -> None:
    """team_of gives the member's team; role_in its role there, None in another team."""
    admin = await subject.add(team=TEAM, role="admin", email="a@example.com", password=PASSWORD)
    partner = await subject.add(team=TEAM, role="partner", email="p@example.com", password=PASSWORD)

    assert (TEAM, "admin", "partner") == (
        await subject.directory.team_of(admin), await subject.directory.role_in(TEAM, admin),
        await subject.directory.role_in(TEAM, partner),
    )  # fmt: skip
    assert None is await subject.directory.role_in(OTHER_TEAM, admin)


async def test_an_unknown_user_has_no_team(subject: Subject) -> None:
    assert None is await subject.directory.team_of(str(uuid.uuid4()))


async def test_reauthentication_checks_the_password(subject: Subject) -> None:
    """The right password passes; a wrong one is invalid-credentials, none missing-auth."""
    owner = await subject.add(team=TEAM, role="owner", email="o@example.com", password=PASSWORD)

    await subject.directory.reauthenticate(owner, PASSWORD, None)
    labels = []
    for given in ("wrong-password", None):
        with pytest.raises(ReauthenticationFailed) as failed:
            await subject.directory.reauthenticate(owner, given, None)
        labels.append(failed.value.label)

    assert ["invalid-credentials", "missing-auth"] == labels


async def test_embedded_members_have_unique_emails_and_can_be_removed(tmp_path: Path) -> None:
    """An email is held once (ignoring case); a removed member is unknown; no password is listed."""
    async with embedded(tmp_path) as subject:
        directory = subject.directory
        assert isinstance(directory, EmbeddedTeamDirectory)
        member = await directory.add_member(team=TEAM, role="admin", email="A@example.com", password=PASSWORD)
        with pytest.raises(MemberExists):
            await directory.add_member(team=OTHER_TEAM, role="admin", email="a@EXAMPLE.com", password=PASSWORD)
        with pytest.raises(ValueError):
            await directory.add_member(team=TEAM, role="admin", email="b@example.com", password="short")

        listed = await directory.list_members(TEAM)
        assert [member] == listed and PASSWORD not in repr(listed)
        assert True is await directory.remove_member(TEAM, member.id)
        assert None is await directory.team_of(member.id)
