"""
Each embedded user's SCIM resource kept as JSON text beside its row, so that a list page is made
of 100 stored texts instead of 100 rows read into users, rendered and serialised (three quarters
of a page's cost; docs/performance.md). The backend does not know SCIM: a `DocumentRenderer`
given by the application (gateway/provisioning/documents.py) makes the text, and the backend
stores it in the same statement that writes the row, so that the two never disagree.

A stored document is used only while it is current: made under the renderer's `key` (the
current rendering). A write that changes the row's `version` or `last_modified` without a new
document (an older release's, beside this one) makes the database clear it (migration 10; each
write here also stores `document_stamp`, what the document was made from, which older releases
compare instead). A
row without a current document (written by other code, or before documents existed: NULL) is
rendered when read, in the same statement's snapshot, and `refresh_documents` rewrites such
rows in the background, once per key (`user_documents_refreshed` remembers that it went through
every row; rows an older release writes later are rendered on read until a newer write or key).

Groups are not in the document (they change apart from the user): the row's `member_of` lists
their ids (kept by the database's triggers on `group_members`, migration 6), and one query a
page gives their names. One user's lookup reads its groups in its own statement, or, inside a
snapshot that several lookups share (the fast lane's round), names its `member_of` once per
snapshot.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Hashable, Sequence
from typing import Any

from gateway.backend.documents import DocumentPage, DocumentRenderer, UserDocument
from gateway.backend.sql.user_rows import row_to_user
from gateway.backend.sql.user_search import Window
from gateway.backend.user_attributes import USER_COLUMNS
from gateway.backend.wire_user import WireUser, sorted_groups
from gateway.db.dialect import Connection, Dialect
from gateway.scim.errors import NotFound

# The stored document when it is current, else NULL; takes the renderer's key. An outdated one
# is NULL already (migration 10).
_CURRENT_DOCUMENT = "CASE WHEN document_key = ? THEN document END"

# The columns that keep a user's document, in the order `document_of` gives their values.
DOCUMENT_COLUMNS = "document, document_key, document_stamp"


def document_of(documents: DocumentRenderer | None, user: WireUser) -> tuple[str | None, ...]:
    """The values of DOCUMENT_COLUMNS for a user being written."""
    if documents is None:
        return None, None, None
    return documents.render(user), documents.key, _stamp(user)


def _stamp(user: WireUser) -> str:
    """
    What a document was made from: the row's version and lastModified. The version alone can
    come back (suspended, then active again) where lastModified does not.
    """
    return f"{user.version} {user.last_modified}"


def search_documents(
    conn: Connection, documents: DocumentRenderer, team: str, *, window: Window
) -> tuple[DocumentPage, int | None]:
    """
    The page that `window` selects, as documents, and the `seq` of its last row. As few columns
    as will do (the document holds the user's id): each costs the driver a round per row.
    """
    rows, total = window(conn, team, f"{_CURRENT_DOCUMENT}, member_of, seq", (documents.key,))
    if any(row[0] is None for row in rows):
        # Some are not current: read the page again with what rendering needs, in one statement
        # (a second one could miss a row deleted meanwhile), and render those.
        full, total = window(conn, team, f"{_CURRENT_DOCUMENT}, member_of, seq, {USER_COLUMNS}", (documents.key,))
        rows = [row[:3] if row[0] is not None else (documents.render(row_to_user(row[3:])), *row[1:3]) for row in full]
    if not rows:
        return DocumentPage(total, ()), None
    groups = _groups_by_member_of(conn, {row[1] for row in rows})
    users = tuple([(document, groups[member_of]) for document, member_of, _seq in rows])
    return DocumentPage(total, users), rows[-1][2]


@functools.lru_cache(maxsize=64)  # a few `where`s: the unique columns, compared as filters compile them
def _one_user_sql(dialect: Dialect, where: str, member_of: bool) -> str:
    """
    The statement of one user's current document, version and groups, made once per dialect and
    `where`. The groups are the row's `member_of` (`member_of`: the caller names them once per
    snapshot, `_snapshot_groups`), or else one JSON text of [id, displayName] pairs read in the
    same statement (by group_members' user_id index).
    """
    pairs = dialect.json_pairs.format(a="g.id", b="g.display_name")
    subquery = f"(SELECT {pairs} FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = users.id)"
    groups = "member_of" if member_of else subquery
    return f"SELECT {_CURRENT_DOCUMENT}, version, {groups} FROM users WHERE team = ? AND {where}"


@functools.lru_cache(maxsize=1024)
def _groups_of(pairs: str | None) -> tuple[tuple[str, str], ...]:
    """
    The groups a `_one_user_sql` row lists, read once per text: users share few sets of groups,
    and the text holds their ids and names, so a renamed group is another text (nothing kept
    here goes stale).
    """
    return sorted_groups(json.loads(pairs)) if pairs else ()  # NULL (PostgreSQL) or "[]" (SQLite): none


def _snapshot_groups(conn: Connection, memo: dict[Hashable, Any], member_of: str) -> tuple[tuple[str, str], ...]:
    """
    The groups a row's `member_of` lists, named once per snapshot: the requests of one round of
    the fast lane read users in the same few groups. In a large store this spares each lookup a
    walk of group_members' user_id index, a page of its own (docs/performance.md).
    """
    if not member_of:
        return ()
    key = ("groups of", member_of)  # apart from what other units of work keep in the memo
    groups = memo.get(key)
    if groups is None:
        groups = memo[key] = sorted_groups(_group_names(conn, member_of.split(",")))
    return groups


def _groups_in(conn: Connection, memo: dict[Hashable, Any] | None, column: str | None) -> tuple[tuple[str, str], ...]:
    """The groups of a `_one_user_sql` row's last column, made with `member_of` as `memo` says."""
    return _groups_of(column) if memo is None else _snapshot_groups(conn, memo, column or "")


def _one_user(
    conn: Connection, documents: DocumentRenderer, team: str, where: str, params: Sequence[object]
) -> list[Any]:
    """
    The rows (current document or None, version, groups) of the users `where` selects, read in
    one snapshot: the groups with the row in autocommit, or named from `member_of` inside a
    snapshot several lookups share.
    """
    memo = conn.snapshot_memo
    rows = conn.execute(_one_user_sql(conn.dialect, where, memo is not None), (documents.key, team, *params)).fetchall()
    return [(document, version, _groups_in(conn, memo, groups)) for document, version, groups in rows]


def user_document(
    conn: Connection, documents: DocumentRenderer, team: str, user_id: str
) -> tuple[UserDocument, str] | None:
    """
    One user's current document with its groups, and its version, read in one snapshot; None
    when its stored document is not current (the caller renders the user). NotFound when there
    is no such user. (`_one_user` for one row, spelled out: this is every GET by id.)
    """
    memo = conn.snapshot_memo
    sql = _one_user_sql(conn.dialect, "id = ?", memo is not None)
    row = conn.execute(sql, (documents.key, team, user_id)).fetchone()
    if row is None:
        raise NotFound(f"User {user_id} not found")
    document, version, groups = row
    if document is None:
        return None
    return (document, _groups_in(conn, memo, groups)), version


def unique_documents(
    conn: Connection, documents: DocumentRenderer, team: str, where: str, params: Sequence[object]
) -> DocumentPage | None:
    """
    The page of a filter that matches at most one user (`where` compares a unique column): one
    snapshot, no count and no page window. None when the user's stored document is not current.
    """
    users = tuple([(document, groups) for document, _, groups in _one_user(conn, documents, team, where, params)])
    if any(document is None for document, _ in users):
        return None
    return DocumentPage(len(users), users)


def _groups_by_member_of(conn: Connection, member_ofs: set[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """
    Each `users.member_of` value as the sorted (id, displayName) groups it lists: one query for
    the names of the few groups a page's users are in, shared by users in the same groups.
    """
    group_ids = {group_id for member_of in member_ofs if member_of for group_id in member_of.split(",")}
    names = dict(_group_names(conn, sorted(group_ids))) if group_ids else {}
    return {
        member_of: sorted_groups([(g, names[g]) for g in member_of.split(",") if g in names]) if member_of else ()
        for member_of in member_ofs
    }


def _group_names(conn: Connection, group_ids: list[str]) -> list[Any]:
    """The (id, displayName) of those of `group_ids` that exist, by the groups' key."""
    if len(group_ids) == 1:  # most users' groups: a plain equality costs SQLite less than json_each
        return conn.execute("SELECT id, display_name FROM groups WHERE id = ?", group_ids).fetchall()
    return conn.execute(
        f"SELECT id, display_name FROM groups WHERE id IN (SELECT value FROM {conn.dialect.json_values})",
        (json.dumps(group_ids),),
    ).fetchall()


def stale_documents(
    conn: Connection, documents: DocumentRenderer, *, after_seq: int, limit: int
) -> tuple[list[tuple[str, str, str, int, str, str]], int | None]:
    """
    For the `limit` rows after `after_seq`, the documents of those whose stored one is not
    current, as parameters of STORE_DOCUMENT; and the `seq` to go on from (None at the end).
    A read: rendering holds no write lock.
    """
    rows = conn.execute(
        f"SELECT {USER_COLUMNS}, seq, {_CURRENT_DOCUMENT} IS NULL FROM users WHERE seq > ? ORDER BY seq LIMIT ?",
        (documents.key, after_seq, limit),
    ).fetchall()
    updates = []
    for row in rows:
        if row[-1]:
            user = row_to_user(row)
            updates.append(
                (documents.render(user), documents.key, _stamp(user), row[-2], user.version, user.last_modified)
            )
    return updates, (rows[-1][-2] if len(rows) == limit else None)


def store_documents(conn: Connection, updates: list[tuple[str, str, str, int, str, str]]) -> int:
    """
    Store documents made by `stale_documents`; how many were. A row changed since (its version
    or lastModified moved: another writer, which stored its own document) is left alone.
    """
    return conn.executemany(
        "UPDATE users SET document = ?, document_key = ?, document_stamp = ? "
        "WHERE seq = ? AND version = ? AND last_modified = ?",
        updates,
    ).rowcount


def refreshed_under(conn: Connection, key: str) -> bool:
    """Whether `refresh_documents` has been through every row under `key`."""
    return conn.execute("SELECT 1 FROM user_documents_refreshed WHERE key = ?", (key,)).fetchone() is not None


def mark_refreshed(conn: Connection, key: str) -> None:
    """Every row has been through `refresh_documents` under `key`."""
    conn.execute("INSERT INTO user_documents_refreshed (key) VALUES (?) ON CONFLICT DO NOTHING", (key,))
