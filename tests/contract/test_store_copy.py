"""
`scim-gateway store copy` moves an installation's state between SQLite and PostgreSQL without
losing a row: every table of STATE_TABLES is counted and compared row for row on both sides, and
the copy serves as the gateway's store afterwards. Skipped without a PostgreSQL server.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.backend.embedded import users as embedded
from gateway.backend.embedded.backend import EmbeddedBackend
from gateway.provisioning.group_members import group_members
from gateway.backend.wire_group import AddMembers, GroupFields, NewGroup
from gateway.backend.wire_user import NewUser, UserFields, UserQuery
from gateway.cli import main
from gateway.config import Store as StoreSettings
from gateway.db.connect import Location, connect, migrate
from gateway.db.migrations import SQLITE_MIGRATIONS, STATE_TABLES
from gateway.provisioning.documents import UserDocuments
from gateway.provisioning.tokens import TokenService
from gateway.store.opening import open_store
from postgres_schema import fresh_schema

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
DOCUMENTS = UserDocuments()  # rows as the gateway writes them, with their documents
OTHER_TEAM = "d2a1c0de-1111-4222-8333-944455556666"
USERS = 2500  # more than one batch of rows per table


@pytest.fixture(name="dsn")
def _dsn() -> Iterator[str]:
    with fresh_schema() as dsn:
        yield dsn


@pytest.fixture(name="sqlite_state")
async def _sqlite_state(tmp_path: Path) -> AsyncIterator[tuple[Path, str]]:
    """An SQLite store with tokens, two teams, users, groups with members and brig state; (path, a token)."""
    path = tmp_path / "gw.db"
    store = await open_store(StoreSettings(path=str(path)))
    backend = EmbeddedBackend(store.db, group_members=group_members)
    tokens = TokenService(store, backend, max_per_team=8)
    secret, _ = await tokens.create(TEAM, description="Entra ID, üñí", idp="idp-1")
    await tokens.create(OTHER_TEAM, description="Okta")
    news = [
        NewUser(id=str(uuid.uuid4()), fields=UserFields(handle=f"user{n:04d}", display_name=f"U {n}",
                external_id=f"u{n}@example.com", rich_info=(("Dept", "Sales"),)), idp="idp-1" if n % 2 else None)
        for n in range(USERS)
    ]  # fmt: skip
    await store.db.write(lambda conn: [embedded.insert_user(conn, TEAM, new, DOCUMENTS) for new in news])  # noqa: SLF001
    await backend.create_user(OTHER_TEAM, NewUser(id=str(uuid.uuid4()), fields=UserFields(
        handle="other", display_name="Other", external_id="other@example.com")))  # fmt: skip
    group = await backend.create_group(TEAM, NewGroup(id=str(uuid.uuid4()), fields=GroupFields(display_name="Sales")))
    await backend.edit_group(TEAM, group.id, [AddMembers(tuple(new.id for new in news[:300]))])
    await store.db.write(
        lambda conn: conn.execute(
            "INSERT INTO brig_external_ids (team, external_id, user_id, state, claimed_at) VALUES (?, ?, ?, ?, ?)",
            (TEAM, "brig@example.com", str(uuid.uuid4()), "created", 1767312245.5),
        )
    )
    await store.close()
    yield path, secret


def _rows(location: Location) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every state table, sorted, as plain tuples."""
    conn = connect(location)
    try:
        return {
            table: sorted((tuple(row) for row in conn.execute(f"SELECT * FROM {table}").fetchall()), key=repr)
            for table in STATE_TABLES
        }
    finally:
        conn.close()


def test_copy_to_postgres_and_back_keeps_every_row(
    sqlite_state: tuple[Path, str], dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite -> PostgreSQL -> SQLite: the same rows in every table, and the report counts them."""
    path, _ = sqlite_state
    back = tmp_path / "back.db"

    there = main(["store", "copy", "--from", f"sqlite:{path}", "--to", dsn])
    report = capsys.readouterr().out
    again = main(["store", "copy", "--from", dsn, "--to", f"sqlite:{back}"])

    source, copied = _rows(Location("sqlite", str(path))), _rows(Location.parse(dsn))
    returned = _rows(Location("sqlite", str(back)))
    assert (0, 0) == (there, again)
    assert {t: len(r) for t, r in source.items()} == {t: len(r) for t, r in copied.items()}
    assert source == copied == returned
    assert f"users: {USERS + 1} rows" in report and "group_members: 300 rows" in report
    assert "counts match on both sides" in report


async def test_the_copy_serves_as_the_store(sqlite_state: tuple[Path, str], dsn: str) -> None:
    """After a copy the PostgreSQL store knows the token, pages users in the old order, takes new users."""
    path, secret = sqlite_state
    assert 0 == main(["store", "copy", "--from", f"sqlite:{path}", "--to", dsn])

    store = await open_store(StoreSettings(kind="postgres", dsn=dsn, connections=2))
    try:
        backend = EmbeddedBackend(store.db, group_members=group_members)
        record = await TokenService(store, backend, max_per_team=8).verify(f"Bearer {secret}")
        page = await backend.search_users(TEAM, UserQuery(offset=1000, limit=3))
        new = await backend.create_user(TEAM, NewUser(id=str(uuid.uuid4()), fields=UserFields(
            handle="newcomer", display_name="New", external_id="new@example.com")))  # fmt: skip
        last = await backend.search_users(TEAM, UserQuery(offset=USERS, limit=5))
        assert (TEAM, "Entra ID, üñí") == (record.team, record.description)
        assert (USERS, ["user1000", "user1001", "user1002"]) == (page.total, [u.handle for u in page.users])
        assert [new.id] == [u.id for u in last.users]  # after every copied user: the sequence moved on
        first = (await backend.search_users(TEAM, UserQuery(limit=1))).users[0]
        assert (("Sales",), ()) == (tuple(name for _, name in first.groups), page.users[0].groups)
    finally:
        await store.close()


def test_copy_into_a_database_with_state_is_refused(
    sqlite_state: tuple[Path, str], dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second copy into the same target exits 1 naming the tables that hold rows, and adds nothing."""
    path, _ = sqlite_state
    assert 0 == main(["store", "copy", "--from", f"sqlite:{path}", "--to", dsn])
    before = _rows(Location.parse(dsn))
    capsys.readouterr()

    code = main(["store", "copy", "--from", f"sqlite:{path}", "--to", dsn])

    assert (1, before) == (code, _rows(Location.parse(dsn)))
    assert "the target already holds state: teams (2 rows)" in capsys.readouterr().err


def test_a_nul_written_by_an_older_release_refuses_the_copy_naming_the_row(
    sqlite_state: tuple[Path, str], dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL text cannot hold NUL: the copy exits 1 naming table, column and row, not a traceback."""
    path, _ = sqlite_state
    conn = sqlite3.connect(path)
    with conn:
        (user_id,) = conn.execute("SELECT id FROM users WHERE handle = 'user0007'").fetchone()
        conn.execute("UPDATE users SET display_name = ? WHERE id = ?", ("U\x007", user_id))
    conn.close()

    code = main(["store", "copy", "--from", f"sqlite:{path}", "--to", dsn])

    assert (1, {}) == (code, {t: r for t, r in _rows(Location.parse(dsn)).items() if r})
    assert f"users.display_name of row {user_id} holds a NUL character" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("gw.db", "postgres://db/x", "'gw.db' is not sqlite:PATH or postgres://"),
        ("sqlite:a.db", "sqlite:a.db", "--from and --to are the same database"),
    ],
)
def test_copy_with_bad_locations_exits_2(
    source: str, target: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Locations that are not sqlite:PATH or a PostgreSQL URL, or one database twice: exit 2."""
    assert 2 == main(["store", "copy", "--from", source, "--to", target])
    assert message in capsys.readouterr().err


def test_migrate_command_reports_the_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`scim-gateway migrate` brings an old database up to date and says from which version."""
    config = tmp_path / "gw.yaml"
    config.write_text(f"store:\n  path: {tmp_path / 'gw.db'}\n", encoding="utf-8")
    conn = connect(Location("sqlite", str(tmp_path / "gw.db")))
    migrate(conn, target=1)
    conn.close()

    first = main(["migrate", "--config", str(config)])
    second = main(["migrate", "--config", str(config)])

    out = capsys.readouterr().out.splitlines()
    assert (0, 0) == (first, second)
    latest = len(SQLITE_MIGRATIONS)
    assert out[0].endswith(f"schema from version 1 to {latest}")
    assert out[1].endswith(f"schema up to date at version {latest}")

