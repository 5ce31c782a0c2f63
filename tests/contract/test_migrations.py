"""
Versioned migrations on SQLite and PostgreSQL: one version numbering, upgrades from the first
version keep the data, concurrent starts apply each step once, and the table list that
`store copy` walks covers every table.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.backend.embedded.backend import EmbeddedBackend
from gateway.provisioning.group_members import group_members
from gateway.backend.wire_group import GroupFields, NewGroup
from gateway.backend.wire_user import UserQuery
from gateway.config import Store as StoreSettings
from gateway.db.connect import Location, connect, migrate
from gateway.db.dialect import Connection, SchemaOutOfDate
from gateway.db.migrations import SQLITE_MIGRATIONS, STATE_TABLES
from gateway.provisioning.documents import UserDocuments
from gateway.provisioning.tokens import hash_token
from gateway.store.opening import open_store
from postgres_schema import fresh_schema

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
USER_ID = "9a1f5e0c-3b7d-4c2e-8f6a-0d1e2f3a4b5c"
TOKEN_ID = "5d7c9e1a-2b4f-4a6c-8e0d-1f3a5b7c9d2e"


@pytest.fixture(name="settings", params=["sqlite", "postgres"])
def _settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSettings]:
    """Store settings of an empty database of each kind."""
    if request.param == "sqlite":
        yield StoreSettings(path=str(tmp_path / "gw.db"))
        return
    with fresh_schema() as dsn:
        yield StoreSettings(kind="postgres", dsn=dsn, connections=2)


def _tables(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    return {row[0] for row in conn.execute(sql).fetchall()} - {"schema_version"}


def _write_version_1_state(conn: Connection) -> None:
    """A token, a team and a user, as the gateway at schema version 1 wrote them."""
    conn.execute(
        "INSERT INTO tokens (id, team, hash, created_at, description, name, idp, last_used_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (TOKEN_ID, TEAM, hash_token("old token"), "2026-01-02T03:04:05.000Z", "Okta", "okta", None, None),
    )
    conn.execute("INSERT INTO teams (id, created_at, user_count) VALUES (?, ?, 1)", (TEAM, "2026-01-02T03:04:05.000Z"))
    conn.execute(
        "INSERT INTO users (id, team, handle, external_id, display_name, email, email_type, status, role, "
        "locale, idp, rich_info, extra, created_at, last_modified, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (USER_ID, TEAM, "bjensen", "bjensen@example.com", "Barbara Jensen", "bjensen@example.com", "work",
         "active", "member", "en", "idp-1", '[["Department","Sales"]]', "{}", "2026-01-02T03:04:05.000Z",
         "2026-01-02T03:04:05.000Z", '"v1"'),
    )  # fmt: skip


def test_both_databases_have_the_same_versions() -> None:
    """PostgreSQL's migrations are SQLite's step for step: the same version numbers."""
    from gateway.db.migrations_postgres import POSTGRES_MIGRATIONS

    assert len(SQLITE_MIGRATIONS) == len(POSTGRES_MIGRATIONS)


def _shape(conn: Connection) -> tuple[dict[str, list[str]], set[str]]:
    """({table: its columns in order}, index names) of the latest schema."""
    columns = {table: [d[0] for d in conn.execute(f"SELECT * FROM {table} WHERE 1 = 0").description] for table in _tables(conn)}
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"
    else:  # without the indexes PostgreSQL names itself for primary keys and UNIQUE columns
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
    return columns, {row[0] for row in conn.execute(sql).fetchall()}


def test_both_schemas_have_the_same_tables_columns_and_indexes(tmp_path: Path) -> None:
    """The translated PostgreSQL schema has SQLite's tables, columns (in order) and named indexes."""
    with fresh_schema() as dsn:
        shapes = []
        for location in (Location("sqlite", str(tmp_path / "gw.db")), Location.parse(dsn)):
            conn = connect(location)
            try:
                migrate(conn)
                shapes.append(_shape(conn))
            finally:
                conn.close()

    assert shapes[0] == shapes[1]
    assert "users_by_email" in shapes[1][1]


def test_state_tables_name_every_table_of_the_latest_schema(settings: StoreSettings) -> None:
    """STATE_TABLES (what `store copy` moves) is exactly the set of tables of the latest schema."""
    conn = connect(Location.of(settings))
    try:
        assert (0, len(SQLITE_MIGRATIONS)) == migrate(conn)
        assert set(STATE_TABLES) == _tables(conn)
    finally:
        conn.close()


async def test_a_version_1_database_is_upgraded_with_its_data(settings: StoreSettings) -> None:
    """A database made by schema version 1, opened by this gateway: its token and user read back."""
    conn = connect(Location.of(settings))
    try:
        assert (0, 1) == migrate(conn, target=1)
        conn.execute("BEGIN")
        _write_version_1_state(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()

    store = await open_store(settings)
    try:
        backend = EmbeddedBackend(store.db, group_members=group_members)
        token = await store.find_token(hash_token("old token"))
        user = await backend.get_user(TEAM, USER_ID)
        group = await backend.create_group(
            TEAM, NewGroup(id="g-1", fields=GroupFields(display_name="Sales"), members=(USER_ID,))
        )
        assert (TOKEN_ID, "okta") == (token.id if token else None, token.name if token else None)
        assert ("bjensen", (("Department", "Sales"),), '"v1"') == (user.handle, user.rich_info, user.version)
        assert (1, (USER_ID,)) == (group.member_count, group.members)
        assert (("g-1", "Sales"),) == (await backend.get_user(TEAM, USER_ID)).groups
    finally:
        await store.close()


async def test_version_6_fills_member_of_and_old_rows_list_from_fresh_documents(settings: StoreSettings) -> None:
    """Users and memberships of schema 5: member_of is filled, and a list renders and then stores documents."""
    conn = connect(Location.of(settings))
    try:
        assert (0, 5) == migrate(conn, target=5)
        conn.execute("BEGIN")
        _write_version_1_state(conn)
        for group_id, name in (("g-1", "Sales"), ("g-2", "All")):
            conn.execute(
                "INSERT INTO groups (id, team, display_name, created_at, last_modified, member_count) "
                "VALUES (?, ?, ?, '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z', 1)",
                (group_id, TEAM, name),
            )
            conn.execute("INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", (group_id, USER_ID))
        conn.execute("COMMIT")
    finally:
        conn.close()

    store = await open_store(settings)
    try:
        documents = UserDocuments()
        backend = EmbeddedBackend(store.db, documents=documents, group_members=group_members)
        member_of = await store.db.read(lambda c: c.execute("SELECT member_of FROM users").fetchone()[0])
        assert {"g-1", "g-2"} == set(member_of.split(","))
        page = await backend.search_user_documents(TEAM, UserQuery())
        user = await backend.get_user(TEAM, USER_ID)
        assert page is not None and [(documents.render(user), (("g-2", "All"), ("g-1", "Sales")))] == list(page.users)
        assert 1 == await backend.refresh_documents()
        assert page == await backend.search_user_documents(TEAM, UserQuery())
    finally:
        await store.close()


async def test_version_10_clears_documents_that_a_write_left_behind(settings: StoreSettings) -> None:
    """
    Outdated at the upgrade, or left behind later by a write of the row without its document (an
    older release's): cleared, so a read renders the row. Writes with their document keep theirs.
    """
    stamp = "'\"v1\" 2026-01-02T03:04:05.000Z'"  # version || ' ' || last_modified of the row below
    conn = connect(Location.of(settings))
    try:
        assert (0, 9) == migrate(conn, target=9)
        conn.execute("BEGIN")
        _write_version_1_state(conn)
        conn.execute(f"UPDATE users SET document = 'current', document_key = 'k', document_stamp = {stamp}")
        conn.execute("INSERT INTO teams (id, created_at, user_count) VALUES ('t2', '2026-01-02T03:04:05.000Z', 1)")
        conn.execute(
            "INSERT INTO users (id, team, handle, external_id, display_name, status, role, locale, rich_info, "
            "extra, created_at, last_modified, version, document, document_key, document_stamp) "
            "VALUES ('u2', 't2', 'h2', 'e2', 'D', 'active', 'member', 'en', '[]', '{}', 'c', 'm', 'v', "
            "'outdated', 'k', 'v older')"
        )
        conn.execute("COMMIT")
        assert (9, 10) == migrate(conn)

        def documents() -> dict[str, str | None]:
            return dict(conn.execute("SELECT id, document FROM users").fetchall())

        assert {USER_ID: "current", "u2": None} == documents()  # the outdated one, at the upgrade
        conn.execute("UPDATE users SET document = 'refreshed', document_key = 'k' WHERE id = 'u2'")  # no version
        conn.execute(
            "UPDATE users SET display_name = 'New', version = 'v2', last_modified = 'm2', document = 'new', "
            "document_stamp = 'v2 m2' WHERE id = 'u2'"
        )  # as the gateway writes: the row and its document
        conn.execute("UPDATE users SET member_of = 'g' WHERE id = ?", (USER_ID,))  # a membership's trigger
        assert {USER_ID: "current", "u2": "new"} == documents()
        conn.execute("UPDATE users SET display_name = 'Old', version = 'v3' WHERE id = 'u2'")  # an older release
        conn.execute("UPDATE users SET last_modified = 'm9' WHERE id = ?", (USER_ID,))  # lastModified alone
        assert {USER_ID: None, "u2": None} == documents()
    finally:
        conn.close()


async def test_without_migrate_at_start_an_old_schema_is_refused(settings: StoreSettings) -> None:
    """migrate_at_start false: an older schema stops the start, naming `scim-gateway migrate`."""
    conn = connect(Location.of(settings))
    try:
        migrate(conn, target=1)
    finally:
        conn.close()

    with pytest.raises(SchemaOutOfDate) as caught:
        await open_store(dataclasses.replace(settings, migrate_at_start=False))

    assert "scim-gateway migrate" in str(caught.value)


def test_concurrent_migrations_apply_each_version_once(settings: StoreSettings) -> None:
    """Four processes' worth of migrations starting together: every version is applied once."""
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def start() -> None:
        conn = connect(Location.of(settings))
        try:
            barrier.wait()
            migrate(conn)
        except BaseException as exc:  # collected: the assertion below reports it
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    conn = connect(Location.of(settings))
    try:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
    finally:
        conn.close()
    assert ([], list(range(1, len(SQLITE_MIGRATIONS) + 1))) == (errors, versions)
