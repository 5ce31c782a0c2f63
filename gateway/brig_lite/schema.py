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
    # 3: what real brig, galley and spar keep apart (issue 14).
    # - `invitations`: brig's team invitations (services/brig/src/Brig/Team/API.hs,
    #   createInvitationViaScim), keyed by the invitee's user id, with the invited role's
    #   permission bits; a pending invitee is no galley team member until it accepts, so the
    #   team_members rows migration 1 gave pending users move here.
    # - `email_keys`: brig's user keys (libs/wire-subsystems/src/Wire/UserKeyStore.hs): the
    #   normalised address (lower-cased, `+suffix` stripped outside Wire's trusted domains) ->
    #   the activated account that claimed it. Existing live, non-pending accounts claim theirs
    #   (first one wins).
    # - `idps`: spar's identity providers (libs/wire-api/src/Wire/API/User/IdentityProvider.hs,
    #   IdP), for spar's internal `GET /i/identity-providers/:tid`.
    """
    CREATE TABLE invitations (
        user TEXT PRIMARY KEY,
        team TEXT NOT NULL,
        permissions INTEGER NOT NULL,
        email TEXT NOT NULL,
        name TEXT,
        created_at TEXT NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX invitations_by_team ON invitations (team);
    CREATE INDEX invitations_by_expiry ON invitations (expires_at);

    INSERT INTO invitations (user, team, permissions, email, name, created_at, expires_at)
    SELECT a.id, m.team, m.permissions, a.email, a.name, a.created_at, coalesce(a.expires_at, 0)
    FROM accounts AS a JOIN team_members AS m ON m.user = a.id
    WHERE a.status = 'pending-invitation' AND a.email IS NOT NULL;
    DELETE FROM team_members WHERE user IN (SELECT id FROM accounts WHERE status = 'pending-invitation');

    CREATE TABLE email_keys (
        key TEXT PRIMARY KEY,
        user TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX email_keys_by_user ON email_keys (user);

    INSERT OR IGNORE INTO email_keys (key, user)
    SELECT lower(
        CASE
            WHEN lower(substr(email, instr(email, '@') + 1)) IN ('wearezeta.com', 'wire.com', 'simulator.amazonses.com')
                 OR instr(substr(email, 1, instr(email, '@') - 1), '+') = 0
            THEN email
            ELSE substr(email, 1, instr(email, '+') - 1) || substr(email, instr(email, '@'))
        END
    ), id
    FROM accounts
    WHERE email IS NOT NULL AND status IN ('active', 'suspended')
    ORDER BY seq;

    CREATE TABLE idps (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        team TEXT NOT NULL,
        issuer TEXT NOT NULL,
        request_uri TEXT NOT NULL,
        certificate TEXT NOT NULL,
        api_version TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX idps_by_team ON idps (team)
    """,
)


def migrate_brig_lite(conn: sqlite3.Connection) -> int:
    """Bring brig-lite's schema up to date (for SqliteDatabase.open(..., migrate=...))."""
    return migrate_sqlite(conn, migrations=BRIG_LITE_MIGRATIONS, version_table="brig_lite_schema_version")
