"""
Seeding: fill a gateway's SQLite file with N users directly, before the gateway starts.

Going through the API would take hours at 1M users (every POST is a transaction); here the rows
are written with `executemany` in large transactions, with the journal and fsync off, in exactly
the column formats the embedded backend writes (gateway/backend/embedded/users.py,
gateway/backend/sql/user_rows.py): rich_info '[]', extra '{}', version from `content_version`,
times from `format_time`, and each user's document (gateway/backend/embedded/documents.py) from
the gateway's own renderer, as a create would store it.
The schema itself comes from the gateway's own migrations, and the team's `user_count` is set to N.

Groups are written as gateway/backend/embedded/groups.py writes them: one `groups` row per group
(revision 1, `member_count` set), one `group_members` row per member (whose insert sets the
member's `member_of`, by the schema's triggers), and the team's `group_count`;
which groups and members is bench.population's `seeded_groups`.

A SCIM token bound to the bench IdP is created the way `scim-gateway token create` does it
(`new_token_secret`/`hash_token`), and its secret returned.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gateway.backend.wire_user import UserFields, content_version
from gateway.clock import format_time, now_text
from gateway.backend.embedded.documents import DOCUMENT_COLUMNS, document_of
from gateway.backend.sql.user_rows import row_to_user
from gateway.db.migrations import migrate_sqlite
from gateway.provisioning.documents import UserDocuments
from gateway.provisioning.tokens import hash_token, new_token_secret

from bench.population import IDP, TEAM, seeded_groups, user_id, user_name

BATCH = 50_000  # rows per executemany / transaction
# Seeded users were "created" one second apart, ending about now.
_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


def seed_store(path: Path, users: int, *, log=print) -> str:
    """Create `path` (must not exist) with the schema, one team of `users` users and a token."""
    if path.exists():
        raise FileExistsError(path)
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate_sqlite(conn)  # the gateway's own schema, version and all
        # Seeding only: no rollback journal, no fsync, a big page cache for the index inserts.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")  # ~1 GB, in KiB
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO teams (id, created_at, user_count) VALUES (?, ?, ?)",
            (TEAM, format_time(_EPOCH), users),
        )
        secret = new_token_secret()
        conn.execute(
            "INSERT INTO tokens (id, team, hash, created_at, description, name, idp, last_used_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (str(uuid.uuid4()), TEAM, hash_token(secret), now_text(), "bench", "bench", IDP),
        )
        conn.execute("COMMIT")
        insert = (
            "INSERT INTO users (id, team, handle, display_name, external_id, email, email_type, "
            "status, role, locale, idp, rich_info, extra, created_at, last_modified, version, "
            f"{DOCUMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        documents = UserDocuments()
        for first in range(0, users, BATCH):
            rows = [_with_document(_row(i), documents) for i in range(first, min(first + BATCH, users))]
            conn.execute("BEGIN")
            conn.executemany(insert, rows)
            conn.execute("COMMIT")
            if first and first % 500_000 == 0:
                log(f"  seeded {first:,} users ({time.perf_counter() - started:.0f} s)")
        _seed_groups(conn, users)
        # every document is the current renderer's: the gateway need not walk them at its start
        conn.execute("INSERT INTO user_documents_refreshed (key) VALUES (?)", (documents.key,))
        # Back to what the gateway expects on disk; it sets WAL again itself when it connects.
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    log(f"  seeded {users:,} users into {path.name} in {time.perf_counter() - started:.1f} s")
    return secret


def _seed_groups(conn: sqlite3.Connection, users: int) -> None:
    """The groups of `seeded_groups(users)`, created (and last changed) at the seeding epoch."""
    groups = seeded_groups(users)
    created = format_time(_EPOCH)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO groups (id, team, display_name, external_id, created_at, last_modified, revision, "
        "member_count) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
        [(g.id, TEAM, g.display_name, g.external_id, created, created, len(g.members)) for g in groups],
    )
    conn.executemany(
        "INSERT INTO group_members (group_id, user_id) VALUES (?, ?)",
        [(g.id, member) for g in groups for member in g.members],
    )
    conn.execute("UPDATE teams SET group_count = ? WHERE id = ?", (len(groups), TEAM))
    conn.execute("COMMIT")


def _with_document(row: tuple[object, ...], documents: UserDocuments) -> tuple[object, ...]:
    """The row and the document the embedded backend stores with it (its columns are USER_COLUMNS)."""
    return (*row, *document_of(documents, row_to_user(row)))


def _row(i: int) -> tuple[object, ...]:
    """User i as the embedded backend would have stored it after a SAML (IdP-bound) create."""
    handle = user_name(i)
    email = f"{handle}@bench.example.com"
    display_name = f"Bench User {i}"
    created = format_time(_EPOCH + timedelta(seconds=i))
    version = content_version(
        UserFields(handle=handle, display_name=display_name, external_id=email, email=email, email_type="work"),
        "active",
    )
    return (
        user_id(i), TEAM, handle, display_name, email, email, "work",
        "active", "member", "en", IDP, "[]", "{}", created, created, version,
    )  # fmt: skip
