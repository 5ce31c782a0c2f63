"""
Versioned schema migrations. Each entry of `SQLITE_MIGRATIONS` moves the schema one version up;
they run in order inside one `BEGIN IMMEDIATE` transaction that first re-reads the current
version, so two processes starting at the same moment apply each step exactly once.
"""

from __future__ import annotations

import sqlite3

SQLITE_MIGRATIONS: tuple[str, ...] = (
    # 1: tokens (the gateway's own state) and the embedded backend's teams and users.
    """
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        team TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        description TEXT NOT NULL,
        name TEXT NOT NULL,
        idp TEXT,
        last_used_at TEXT
    );
    CREATE INDEX tokens_by_team ON tokens (team);

    CREATE TABLE teams (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        user_count INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE users (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        team TEXT NOT NULL REFERENCES teams (id),
        handle TEXT NOT NULL UNIQUE,
        external_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        email TEXT,
        email_type TEXT,
        status TEXT NOT NULL,
        role TEXT NOT NULL,
        locale TEXT NOT NULL,
        idp TEXT,
        rich_info TEXT NOT NULL,
        extra TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        version TEXT NOT NULL
    );
    CREATE UNIQUE INDEX users_by_external_id ON users (team, external_id);
    CREATE INDEX users_by_team ON users (team);
    CREATE INDEX users_by_email ON users (team, email COLLATE NOCASE);
    CREATE INDEX users_by_display_name ON users (team, display_name COLLATE NOCASE);
    CREATE INDEX users_by_created ON users (team, created_at);
    CREATE INDEX users_by_last_modified ON users (team, last_modified);
    """,
)


def schema_version(conn: sqlite3.Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return row[0] or 0


def migrate_sqlite(conn: sqlite3.Connection, *, target: int | None = None) -> int:
    """Apply every migration above the database's version (up to `target`); return the version."""
    target = len(SQLITE_MIGRATIONS) if target is None else target
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)
        for version in range(current + 1, target + 1):
            for statement in SQLITE_MIGRATIONS[version - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return max(current, target)
