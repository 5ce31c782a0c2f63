"""
Each embedded user's SCIM resource kept as JSON text beside its row, so that a list page is made
of 100 stored texts instead of 100 rows read into users, rendered and serialised (three quarters
of a page's cost; docs/performance.md). The backend does not know SCIM: a `DocumentRenderer`
given by the application (gateway/provisioning/documents.py) makes the text, and the backend
stores it in the same statement that writes the row, so that the two never disagree.

A stored document is used only when it was made under the renderer's current `key`: after an
upgrade that renders users differently, or for rows written before documents existed (NULL),
the read renders the row itself, and `refresh_documents` rewrites such rows in the background
(once per key: `user_documents_refreshed` remembers that it went through every row).
Groups are not in the document (they change apart from the user): the row's `member_of` lists
their ids (kept by gateway/backend/embedded_groups.py), and one query a page gives their names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from gateway.backend.embedded_groups import sorted_groups
from gateway.backend.models import DocumentPage, DocumentRenderer, WireUser
from gateway.backend.user_rows import USER_COLUMNS, row_to_user
from gateway.db.dialect import Connection

Window = Callable[[Connection, str, str, Sequence[object]], tuple[list[tuple[Any, ...]], int]]


def document_of(documents: DocumentRenderer | None, user: WireUser) -> tuple[str | None, str | None]:
    """The (document, document_key) columns of a user being written."""
    if documents is None:
        return None, None
    return documents.render(user), documents.key


def search_documents(
    conn: Connection, documents: DocumentRenderer, team: str, *, window: Window
) -> tuple[DocumentPage, int | None]:
    """The page that `window` selects, as documents, and the `seq` of its last row."""
    rows, total = window(
        conn, team, "id, CASE WHEN document_key = ? THEN document END, seq, member_of", (documents.key,)
    )
    if not rows:
        return DocumentPage(total, ()), None
    stale = [row[2] for row in rows if row[1] is None]
    rendered = _render_rows(conn, documents, stale) if stale else {}
    groups = _groups_by_member_of(conn, {row[3] for row in rows})
    users = tuple(
        (user_id, rendered[seq] if document is None else document, groups[member_of])
        for user_id, document, seq, member_of in rows
    )
    return DocumentPage(total, users), rows[-1][2]


def _groups_by_member_of(conn: Connection, member_ofs: set[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """
    Each `users.member_of` value as the sorted (id, displayName) groups it lists: one query for
    the names of the few groups a page's users are in, shared by users in the same groups.
    """
    group_ids = {group_id for member_of in member_ofs if member_of for group_id in member_of.split(",")}
    names: dict[str, str] = {}
    if group_ids:
        names = dict(
            conn.execute(
                f"SELECT id, display_name FROM groups WHERE id IN (SELECT value FROM {conn.dialect.json_values})",
                (json.dumps(sorted(group_ids)),),
            ).fetchall()
        )
    return {
        member_of: sorted_groups([(g, names[g]) for g in member_of.split(",") if g in names]) if member_of else ()
        for member_of in member_ofs
    }


def _render_rows(conn: Connection, documents: DocumentRenderer, seqs: list[int]) -> dict[int, str]:
    """Documents of the rows `seqs` rendered now (their stored ones are missing or stale)."""
    placeholders = ", ".join("?" * len(seqs))
    rows = conn.execute(f"SELECT {USER_COLUMNS}, seq FROM users WHERE seq IN ({placeholders})", seqs).fetchall()
    return {row[-1]: documents.render(row_to_user(row)) for row in rows}


def refresh_documents(
    conn: Connection, documents: DocumentRenderer, *, after_seq: int, limit: int
) -> tuple[int, int | None]:
    """
    Store the documents missing or stale among the `limit` rows after `after_seq`; returns how
    many, and the `seq` to go on from (None at the end). A row that another process changes
    meanwhile (its version or lastModified moved) is left to that writer, which stores its own.
    """
    rows = conn.execute(
        f"SELECT {USER_COLUMNS}, seq, document_key FROM users WHERE seq > ? ORDER BY seq LIMIT ?",
        (after_seq, limit),
    ).fetchall()
    stale = [row for row in rows if row[-1] != documents.key]
    if stale:
        updates = []
        for row in stale:
            user = row_to_user(row)
            updates.append((documents.render(user), documents.key, row[-2], user.version, user.last_modified))
        conn.executemany(
            "UPDATE users SET document = ?, document_key = ? WHERE seq = ? AND version = ? AND last_modified = ?",
            updates,
        )
    return len(stale), (rows[-1][-2] if len(rows) == limit else None)


def refreshed_under(conn: Connection, key: str) -> bool:
    """Whether `refresh_documents` has been through every row under `key`."""
    return conn.execute("SELECT 1 FROM user_documents_refreshed WHERE key = ?", (key,)).fetchone() is not None


def mark_refreshed(conn: Connection, key: str) -> None:
    """
    Every row has been through `refresh_documents` under `key`. Rows an older release writes
    afterwards (replicas of two releases at once) keep their stale documents, which reads render
    anew: right, only slower, until the next key.
    """
    conn.execute("INSERT INTO user_documents_refreshed (key) VALUES (?) ON CONFLICT DO NOTHING", (key,))
