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
    # 2: the embedded backend's groups (SCIM Groups as Wire user groups). `revision` is bumped on
    # every effective change and gives the weak ETag; `member_count` and `teams.group_count` keep
    # counts without scanning. A membership row is one indexed insert or delete.
    """
    CREATE TABLE groups (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        team TEXT NOT NULL REFERENCES teams (id),
        display_name TEXT NOT NULL,
        external_id TEXT,
        created_at TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        member_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX groups_by_team ON groups (team);
    CREATE INDEX groups_by_display_name ON groups (team, display_name COLLATE NOCASE);
    CREATE UNIQUE INDEX groups_by_external_id ON groups (team, external_id);

    CREATE TABLE group_members (
        group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (group_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX group_members_by_user ON group_members (user_id);

    ALTER TABLE teams ADD COLUMN group_count INTEGER NOT NULL DEFAULT 0
    """,
    # 3: the brig backend's state (spar's, docs/wire.md §6.3). `brig_external_ids` is spar's
    # scim_external: (team, externalId) -> user with a creating/created/abandoned marker.
    # `brig_users` mirrors what SCIM filters and sorts on (brig cannot list or filter), with the
    # SCIM times and the attributes only the gateway keeps; its columns are named as the embedded
    # `users` table's, so that USER_TABLE (backend/sql/filters.py) compiles filters for it too.
    # `brig_saml_refs` is spar's user_v2: (IdP, case-folded NameID) -> user.
    """
    CREATE TABLE brig_external_ids (
        team TEXT NOT NULL,
        external_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        state TEXT NOT NULL,
        claimed_at REAL NOT NULL,
        PRIMARY KEY (team, external_id)
    );
    CREATE INDEX brig_external_ids_by_user ON brig_external_ids (user_id);

    CREATE TABLE brig_users (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        team TEXT NOT NULL,
        handle TEXT NOT NULL,
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
    CREATE INDEX brig_users_by_team ON brig_users (team);
    CREATE INDEX brig_users_by_handle ON brig_users (team, handle);
    CREATE INDEX brig_users_by_external_id ON brig_users (team, external_id);
    CREATE INDEX brig_users_by_email ON brig_users (team, email COLLATE NOCASE);
    CREATE INDEX brig_users_by_display_name ON brig_users (team, display_name COLLATE NOCASE);
    CREATE INDEX brig_users_by_created ON brig_users (team, created_at);
    CREATE INDEX brig_users_by_last_modified ON brig_users (team, last_modified);

    CREATE TABLE brig_saml_refs (
        user_id TEXT PRIMARY KEY,
        idp TEXT NOT NULL,
        name_id TEXT NOT NULL
    );
    CREATE INDEX brig_saml_refs_by_name_id ON brig_saml_refs (idp, name_id)
    """,
    # 4: the token API's state (issue 5). `idps` is the gateway's registry of a team's SAML IdPs
    # (spar keeps IdPs; the gateway needs only their ids, for V7's implicit association).
    # `team_members` is the embedded backend's team directory: who may manage tokens through the
    # token API (owners and admins; scrypt password hashes). `sso_switch_outbox` holds every flip
    # of a team's SSO-invite switch, written in the transaction that flipped it, until the webhook
    # has taken it (`delivered_at`); `claimed_until` is one deliverer's lease on the row.
    """
    CREATE TABLE idps (
        id TEXT PRIMARY KEY,
        team TEXT NOT NULL,
        description TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX idps_by_team ON idps (team);

    CREATE TABLE team_members (
        id TEXT PRIMARY KEY,
        team TEXT NOT NULL,
        email TEXT NOT NULL,
        role TEXT NOT NULL,
        password TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX team_members_by_email ON team_members (email COLLATE NOCASE);

    CREATE TABLE sso_switch_outbox (
        seq INTEGER PRIMARY KEY,
        team TEXT NOT NULL,
        sso_invites_enabled INTEGER NOT NULL,
        changed_at TEXT NOT NULL,
        delivered_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        claimed_until REAL NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX sso_switch_outbox_pending ON sso_switch_outbox (team, seq) WHERE delivered_at IS NULL
    """,
    # 5: the brig backend's mirror of its SCIM groups (Wire user groups managed by SCIM): what
    # filters, sorting, paging and `excludedAttributes=members` need without asking brig, plus
    # what only the gateway keeps (externalId, lastModified, the revision behind the version).
    # Columns are named as the embedded `groups`/`group_members`; one row per member, so a member
    # change is one indexed row in the mirror; `brig_group_counts` counts a team's groups.
    """
    CREATE TABLE brig_groups (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        team TEXT NOT NULL,
        display_name TEXT NOT NULL,
        external_id TEXT,
        created_at TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        member_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX brig_groups_by_team ON brig_groups (team);
    CREATE INDEX brig_groups_by_display_name ON brig_groups (team, display_name COLLATE NOCASE);
    CREATE UNIQUE INDEX brig_groups_by_external_id ON brig_groups (team, external_id);

    CREATE TABLE brig_group_members (
        group_id TEXT NOT NULL REFERENCES brig_groups (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        PRIMARY KEY (group_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX brig_group_members_by_user ON brig_group_members (user_id);

    CREATE TABLE brig_group_counts (
        team TEXT PRIMARY KEY,
        group_count INTEGER NOT NULL DEFAULT 0
    )
    """,
    # 6: what a list page reads with each embedded user instead of computing it
    # (gateway/backend/embedded/documents.py, docs/performance.md). `document`: the user's SCIM
    # resource as JSON text, written with the row; it is used only while `document_key` names the
    # current rendering and `document_stamp` is the row's `version` and `last_modified` (a row
    # written by other code, or from before this migration, is rendered when read;
    # `user_documents_refreshed` holds the keys under which a background rewrite went through
    # every row). `member_of`: the
    # ids of the user's groups, comma-separated, filled here and kept by triggers on
    # `group_members`, so that no writer (an older release's included) can leave it wrong; each
    # computes the new value from the row's own, which concurrent PostgreSQL writers cannot lose.
    # PostgreSQL has its own text of this step (migrations_postgres.py).
    """
    CREATE TABLE user_documents_refreshed (key TEXT PRIMARY KEY);
    ALTER TABLE users ADD COLUMN document TEXT;
    ALTER TABLE users ADD COLUMN document_key TEXT;
    ALTER TABLE users ADD COLUMN document_stamp TEXT;
    ALTER TABLE users ADD COLUMN member_of TEXT NOT NULL DEFAULT '';
    UPDATE users SET member_of = coalesce(
        (SELECT group_concat(group_id, ',') FROM group_members WHERE user_id = users.id), ''
    );
    CREATE TRIGGER group_members_joined AFTER INSERT ON group_members BEGIN
        UPDATE users SET member_of = ltrim(member_of || ',' || NEW.group_id, ',')
        WHERE id = NEW.user_id AND instr(',' || member_of || ',', ',' || NEW.group_id || ',') = 0;
    END;
    CREATE TRIGGER group_members_left AFTER DELETE ON group_members BEGIN
        UPDATE users SET member_of = ltrim(rtrim(replace(',' || member_of || ',', ',' || OLD.group_id || ',', ','), ','), ',')
        WHERE id = OLD.user_id;
    END
    """,
    # 7: the brig backend's cross-process safety (gateway/backend/brig/locks.py,
    # group_creates.py). `brig_leases`: one row per user or group being written, held by one
    # process until `expires_at` (renewed while held), so that writers of one user on several
    # gateway processes take turns. `brig_group_creates`: a group create sent to brig whose
    # answer has not been recorded yet (`pending`), or was lost and not yet settled
    # (`unsettled`): what the next create of that name looks up in brig.
    """
    CREATE TABLE brig_leases (
        lease_key TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at REAL NOT NULL
    );

    CREATE TABLE brig_group_creates (
        id TEXT PRIMARY KEY,
        team TEXT NOT NULL,
        display_name TEXT NOT NULL,
        members TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at REAL NOT NULL
    );
    CREATE INDEX brig_group_creates_by_team ON brig_group_creates (team)
    """,
    # 8: group names as long as Wire's (4,000 characters). A PostgreSQL btree entry holds about
    # 2,700 bytes, so there (POSTGRES_OVERRIDES in migrations_postgres.py) the names' indexes
    # become hash indexes: equality filters still use them, sorting by name reads the team's
    # groups. On SQLite, which has no such limit, the indexes are made again as they were.
    """
    DROP INDEX groups_by_display_name;
    CREATE INDEX groups_by_display_name ON groups (team, display_name COLLATE NOCASE);
    DROP INDEX brig_groups_by_display_name;
    CREATE INDEX brig_groups_by_display_name ON brig_groups (team, display_name COLLATE NOCASE)
    """,
    # 9: the SAML issuer of each registered IdP (its metadata issuer URI, the `tenant` of a SAML
    # user's sso_id) for the brig backend without spar_url (gateway/provisioning/idps.py). NULL
    # for IdPs registered before: `scim-gateway idp set-issuer` fills it, check-config lists them.
    """
    ALTER TABLE idps ADD COLUMN issuer TEXT
    """,
    # 10: a stored user document is cleared by the database when a write changes the row's
    # version or lastModified and leaves the document as it was (an older release's write: the
    # gateway writes the document, its key and its stamp with the row), so that a read need not
    # compare each row's `document_stamp` with its version and lastModified (a string made per
    # row: a sixth of a list page's statement, docs/performance.md). Documents already outdated
    # are cleared here. The stamp is still written, for the older releases that compare it.
    """
    UPDATE users SET document = NULL
    WHERE document IS NOT NULL AND document_stamp IS NOT version || ' ' || last_modified;
    CREATE TRIGGER users_document_outdated AFTER UPDATE OF version, last_modified ON users
    WHEN NEW.document IS NOT NULL AND NEW.document_stamp IS OLD.document_stamp
        AND (NEW.version IS NOT OLD.version OR NEW.last_modified IS NOT OLD.last_modified)
    BEGIN
        UPDATE users SET document = NULL WHERE seq = NEW.seq;
    END
    """,
)

# Every table of the latest schema that holds an installation's state, in an order that inserts
# referenced rows first: what `scim-gateway store copy` moves (gateway/db/copy.py). A migration
# that adds a table adds it here (tests/contract/test_migrations.py checks the list is complete);
# the PostgreSQL schema has the same versions in gateway/db/migrations_postgres.py.
STATE_TABLES: tuple[str, ...] = (
    "teams",
    "tokens",
    "users",
    "groups",
    "group_members",
    "brig_external_ids",
    "brig_users",
    "brig_saml_refs",
    "idps",
    "team_members",
    "sso_switch_outbox",
    "brig_groups",
    "brig_group_members",
    "brig_group_counts",
    "user_documents_refreshed",
    "brig_leases",
    "brig_group_creates",
)


def schema_version(conn: sqlite3.Connection, *, version_table: str = "schema_version") -> int:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {version_table} (version INTEGER NOT NULL)")
    row = conn.execute(f"SELECT max(version) FROM {version_table}").fetchone()
    return row[0] or 0


def sql_statements(script: str) -> list[str]:
    """The statements of `script`, split at semicolons outside a trigger's BEGIN ... END."""
    statements, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending)
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending)
    return statements


def migrate_sqlite(
    conn: sqlite3.Connection,
    *,
    target: int | None = None,
    migrations: tuple[str, ...] | None = None,
    version_table: str = "schema_version",
) -> int:
    """
    Apply every migration above the database's version (up to `target`); return the version.
    `migrations` (default: SQLITE_MIGRATIONS) and `version_table` let another schema (brig-lite's)
    keep its own numbering.
    """
    steps = SQLITE_MIGRATIONS if migrations is None else migrations
    target = len(steps) if target is None else target
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn, version_table=version_table)
        for version in range(current + 1, target + 1):
            for statement in sql_statements(steps[version - 1]):
                conn.execute(statement)
            conn.execute(f"INSERT INTO {version_table} (version) VALUES (?)", (version,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return max(current, target)
