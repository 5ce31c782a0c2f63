"""
brig-lite's tables, in a migration list of its own (numbered in `brig_lite_schema_version`), so
that its database never mixes with the gateway's even if both were pointed at one file.
"""

from __future__ import annotations

import sqlite3

from gateway.db.migrations import migrate_sqlite

BRIG_LITE_MIGRATIONS: tuple[str, ...] = (
    # 1: brig's accounts and galley's team members (brig's user groups: migration 2).
    """
    CREATE TABLE accounts (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        handle TEXT UNIQUE,
        email TEXT,
        email_unvalidated TEXT,
        status TEXT NOT NULL,
        locale TEXT NOT NULL,
        team TEXT,
        sso_id TEXT,
        managed_by TEXT NOT NULL DEFAULT 'wire',
        rich_info TEXT NOT NULL DEFAULT '[]',
        password TEXT,
        created_at TEXT NOT NULL,
        expires_at REAL
    );
    CREATE INDEX accounts_by_email ON accounts (email COLLATE NOCASE);
    CREATE INDEX accounts_by_email_unvalidated ON accounts (email_unvalidated COLLATE NOCASE);
    CREATE INDEX accounts_by_expiry ON accounts (expires_at) WHERE expires_at IS NOT NULL;

    CREATE TABLE team_members (
        team TEXT NOT NULL,
        user TEXT NOT NULL,
        permissions INTEGER NOT NULL,
        created_by TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (team, user)
    ) WITHOUT ROWID;
    CREATE INDEX team_members_by_user ON team_members (user)
    """,
    # 2: brig's user groups (libs/wire-api/src/Wire/API/UserGroup.hs): one row per group, one per
    # membership; `managed_by` is "wire" or "scim", `created_at` Wire's UTCTimeMillis text.
    """
    CREATE TABLE user_groups (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        team TEXT NOT NULL,
        name TEXT NOT NULL,
        managed_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX user_groups_by_team ON user_groups (team);

    CREATE TABLE user_group_members (
        group_id TEXT NOT NULL,
        user TEXT NOT NULL,
        PRIMARY KEY (group_id, user)
    ) WITHOUT ROWID;
    CREATE INDEX user_group_members_by_user ON user_group_members (user)
    """,
)


def migrate_brig_lite(conn: sqlite3.Connection) -> int:
    """Bring brig-lite's schema up to date (for SqliteDatabase.open(..., migrate=...))."""
    return migrate_sqlite(conn, migrations=BRIG_LITE_MIGRATIONS, version_table="brig_lite_schema_version")
