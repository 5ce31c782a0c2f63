"""
The embedded backend: Wire users kept in the gateway's own database (SQLite or PostgreSQL), so
that the gateway runs (and can be tried) without a Wire installation. It follows brig's rules that
matter to SCIM: handles unique across teams, invited users pending until they accept, suspension
by `active`.

Each operation is one unit of work over a `Connection` (gateway/db/dialect.py), the same function
for both databases. Races between processes (replicas on one PostgreSQL database) are decided by
the unique constraints, whose violation becomes the same Uniqueness, and by reading a row
`FOR UPDATE` before changing it (nothing on SQLite, where a write holds the whole database).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from gateway.backend.models import (
    DocumentPage, DocumentRenderer, NewUser, Page, Status, UserFields, UserQuery, WireUser,
    content_version, now_text,
)  # fmt: skip
from gateway.backend.embedded_groups import EmbeddedGroups
from gateway.backend.page_cursors import PageCursors
from gateway.backend.user_memberships import (
    lock_groups_of_user, remove_user_from_groups, with_groups, with_page_groups,
)  # fmt: skip
from gateway.backend.user_rows import USER_COLUMNS, row_to_user
from gateway.backend.user_documents import (
    DOCUMENT_COLUMNS, Window, document_of, mark_refreshed, refreshed_under, search_documents,
    stale_documents, store_documents,
)  # fmt: skip
from gateway.backend.sql_filter import compile_filter, order_by
from gateway.db.dialect import Connection, Database
from gateway.scim.errors import NotFound, PreconditionFailed, Uniqueness

PageT = TypeVar("PageT", Page, DocumentPage)



class EmbeddedBackend(EmbeddedGroups):
    """
    A `Backend` (gateway/backend/base.py) over the store's `Database`; the group methods are in
    embedded_groups.py. A user read carries its groups (one more indexed query). Page cursors are
    this process's own: another replica pages the same query by OFFSET until it has seen a page.

    With a `DocumentRenderer` every write also stores the user's rendered document, and
    `search_user_documents` serves list pages from them (gateway/backend/user_documents.py).
    """

    def __init__(self, db: Database, documents: DocumentRenderer | None = None) -> None:
        self._db = db
        self._documents = documents
        self._cursors = PageCursors()

    async def ensure_team(self, team: str) -> None:
        await self._db.write(lambda conn: _ensure_team(conn, team))

    async def get_user(self, team: str, user_id: str) -> WireUser:
        user = await self._db.read(lambda conn: with_groups(conn, _select_user(conn, team, user_id)))
        if user is None:
            raise NotFound(f"User {user_id} not found")
        return user

    async def search_users(self, team: str, query: UserQuery) -> Page:
        return await self._read_page(
            query, lambda conn, window: with_page_groups(conn, _search(conn, team, window)), team=team
        )

    async def search_user_documents(self, team: str, query: UserQuery) -> DocumentPage | None:
        """
        The page `search_users` would give, as stored documents; None without a DocumentRenderer.
        Rows whose stored document is not current are rendered here, not stored (see
        gateway/backend/user_documents.py).
        """
        documents = self._documents
        if documents is None:
            return None
        return await self._read_page(
            query, lambda conn, window: search_documents(conn, documents, team, window=window), team=team
        )

    async def _read_page(
        self, query: UserQuery, read: Callable[[Connection, Window], tuple[PageT, int | None]], *, team: str
    ) -> PageT:
        """
        The page of `query` as `read` makes it of the rows the window selects (it returns the page
        and its last row's `seq`); remembers where the page ended for the next (page_cursors).
        """
        dialect = self._db.dialect
        where, params = ("", []) if query.filter is None else compile_filter(
            query.filter, dialect=dialect  # type: ignore[arg-type]
        )
        order = order_by(query.sort_by, query.descending, dialect=dialect)
        key = (team, where, tuple(params)) if order == "seq" else None
        after = None if key is None else self._cursors.find(key, query.offset)
        window = _window(where, params, order, query.offset, query.limit, after)
        page, last_seq = await self._db.read(lambda conn: read(conn, window))
        if key is not None and last_seq is not None:
            self._cursors.remember(key, query.offset + len(page.users), last_seq)
        return page

    async def refresh_documents(self, *, batch: int = 500) -> int:
        """
        Store the document of every user whose stored one is not current, reading and rendering
        `batch` rows at a time and writing them in a short transaction; returns how many were
        stored. Once every row has been seen under the renderer's key, later calls (at each
        start) return 0 without reading a row.
        """
        documents = self._documents
        if documents is None or await self._db.read(lambda conn: refreshed_under(conn, documents.key)):
            return 0
        refreshed, after = 0, 0
        while after is not None:
            updates, after = await self._db.read(
                lambda conn: stale_documents(conn, documents, after_seq=after, limit=batch)  # noqa: B023
            )
            if updates:
                refreshed += await self._db.write(lambda conn: store_documents(conn, updates))  # noqa: B023
        await self._db.write(lambda conn: mark_refreshed(conn, documents.key))
        return refreshed

    async def create_user(self, team: str, new: NewUser) -> WireUser:
        return await self._db.write(lambda conn: _insert_user(conn, team, new, self._documents))

    async def update_user(
        self, team: str, user_id: str, fields: UserFields, *, expected_version: str | None = None
    ) -> WireUser:
        return await self._db.write(
            lambda conn: with_groups(
                conn, _update_user(conn, team, user_id, fields, expected_version, self._documents)
            )
        )  # type: ignore[return-value]  # _update_user returns a user or raises

    async def delete_user(self, team: str, user_id: str) -> bool:
        return await self._db.write(lambda conn: _delete_user(conn, team, user_id))

    async def accept_invitation(self, team: str, user_id: str) -> WireUser:
        return await self._db.write(
            lambda conn: with_groups(conn, _accept_invitation(conn, team, user_id, self._documents))
        )  # type: ignore[return-value]

    async def check(self) -> None:
        await self._db.read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        """The database belongs to whoever opened it; nothing to release here."""


def _ensure_team(conn: Connection, team: str) -> None:
    conn.execute(
        "INSERT INTO teams (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING", (team, now_text())
    )


def _select_user(conn: Connection, team: str, user_id: str, *, lock: bool = False) -> WireUser | None:
    """The user, or None; `lock`: for a change in this transaction (no concurrent change meanwhile)."""
    suffix = conn.dialect.for_update if lock else ""
    row = conn.execute(
        f"SELECT {USER_COLUMNS} FROM users WHERE id = ? AND team = ?{suffix}", (user_id, team)
    ).fetchone()
    return None if row is None else row_to_user(row)


def _search(conn: Connection, team: str, window: Window) -> tuple[Page, int | None]:
    """The page of users that `window` selects, and the `seq` of its last row."""
    rows, total = window(conn, team, f"{USER_COLUMNS}, seq", ())
    users = tuple(map(row_to_user, rows))
    return Page(total, users), (rows[-1][-1] if rows else None)


def _window(
    where: str, params: list[object], order: str, offset: int, limit: int, after_seq: int | None
) -> Window:
    """
    A list query's page as `fetch(conn, team, columns, column_params) -> (rows, total)`: the rows
    (`columns`, whose `?` take `column_params`) and the number of all matches. `after_seq`, the
    `seq` of the row before `offset` in the default order, replaces OFFSET (see page_cursors).
    """

    def fetch(
        conn: Connection, team: str, columns: str, column_params: Sequence[object]
    ) -> tuple[list[tuple[Any, ...]], int]:
        condition = "team = ?" + (f" AND {where}" if where else "")
        rows: list[tuple[Any, ...]] = []
        if limit > 0:
            if after_seq is None:
                sql = f"SELECT {columns} FROM users WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?"
                rows = conn.execute(sql, [*column_params, team, *params, limit, offset]).fetchall()
            else:
                sql = f"SELECT {columns} FROM users WHERE {condition} AND seq > ? ORDER BY seq LIMIT ?"
                rows = conn.execute(sql, [*column_params, team, *params, after_seq, limit]).fetchall()
        if offset == 0 and len(rows) < limit:
            total = len(rows)  # the whole result fits on the first page: nothing more to count
        elif where:
            total = conn.execute(f"SELECT count(*) FROM users WHERE {condition}", [team, *params]).fetchone()[0]
        else:
            row = conn.execute("SELECT user_count FROM teams WHERE id = ?", (team,)).fetchone()
            total = row[0] if row else 0
        return rows, total

    return fetch


def _check_unique(
    conn: Connection, team: str, fields: UserFields, *, user_id: str | None
) -> None:
    """Wire's order: externalId first, then userName (handles are unique across teams)."""
    row = conn.execute(
        "SELECT id FROM users WHERE team = ? AND external_id = ?", (team, fields.external_id)
    ).fetchone()
    if row is not None and row[0] != user_id:
        raise Uniqueness(f"externalId {fields.external_id!r} is already taken by another user")
    row = conn.execute("SELECT id FROM users WHERE handle = ?", (fields.handle,)).fetchone()
    if row is not None and row[0] != user_id:
        raise Uniqueness(f"userName {fields.handle!r} is already taken")


def _version(fields: UserFields, status: Status) -> str:
    return content_version(
        handle=fields.handle, display_name=fields.display_name, external_id=fields.external_id,
        email=fields.email, email_type=fields.email_type, status=status, role=fields.role,
        locale=fields.locale, rich_info=fields.rich_info, extra=fields.extra,
    )  # fmt: skip


def _insert_user(
    conn: Connection, team: str, new: NewUser, documents: DocumentRenderer | None
) -> WireUser:
    fields = new.fields
    _ensure_team(conn, team)
    _check_unique(conn, team, fields, user_id=None)
    if new.idp is None:
        status: Status = "pending-invitation"
    else:
        status = "active" if fields.active else "suspended"
    now = now_text()
    user = WireUser(
        id=new.id, team=team, handle=fields.handle, display_name=fields.display_name,
        external_id=fields.external_id, email=fields.email, email_type=fields.email_type,
        status=status, role=fields.role, locale=fields.locale, idp=new.idp,
        rich_info=fields.rich_info, extra=fields.extra, created=now, last_modified=now,
        version=_version(fields, status),
    )  # fmt: skip
    try:
        conn.execute(
            f"INSERT INTO users ({USER_COLUMNS}, {DOCUMENT_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_user_values(user), *document_of(documents, user)),
        )
    except conn.dialect.integrity_error as exc:  # a racing writer in another process
        raise _uniqueness(exc, fields) from None
    conn.execute("UPDATE teams SET user_count = user_count + 1 WHERE id = ?", (team,))
    return user


def _uniqueness(exc: Exception, fields: UserFields) -> Uniqueness:
    """The Uniqueness error for a unique constraint that a concurrent writer won."""
    # PostgreSQL names the constraint (users_handle_key); SQLite's message the column (users.handle)
    constraint = getattr(getattr(exc, "diag", None), "constraint_name", None) or str(exc)
    if "handle" in constraint:
        return Uniqueness(f"userName {fields.handle!r} is already taken")
    return Uniqueness(f"externalId {fields.external_id!r} is already taken by another user")


def _user_values(user: WireUser) -> tuple[object, ...]:
    return (
        user.id, user.team, user.handle, user.display_name, user.external_id, user.email,
        user.email_type, user.status, user.role, user.locale, user.idp,
        _rich_info_json(user.rich_info), user.extra,
        user.created, user.last_modified, user.version,
    )  # fmt: skip


def _rich_info_json(rich_info: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(f) for f in rich_info], ensure_ascii=False)


def _next_status(current: Status, active: bool) -> Status:
    if current == "pending-invitation":
        return current
    return "active" if active else "suspended"


def _update_user(
    conn: Connection, team: str, user_id: str, fields: UserFields,
    expected_version: str | None, documents: DocumentRenderer | None,
) -> WireUser:  # fmt: skip
    current = _select_user(conn, team, user_id, lock=True)
    if current is None:
        raise NotFound(f"User {user_id} not found")
    if expected_version is not None and expected_version != current.version:
        raise PreconditionFailed(
            f"User {user_id} has changed (version {current.version}, If-Match {expected_version}); "
            "read it again and retry"
        )
    status = _next_status(current.status, fields.active)
    version = _version(fields, status)
    if version == current.version:
        return current
    _check_unique(conn, team, fields, user_id=user_id)
    user = WireUser(
        id=current.id, team=team, handle=fields.handle, display_name=fields.display_name,
        external_id=fields.external_id, email=fields.email, email_type=fields.email_type,
        status=status, role=fields.role, locale=fields.locale, idp=current.idp,
        rich_info=fields.rich_info, extra=fields.extra, created=current.created,
        last_modified=now_text(), version=version,
    )  # fmt: skip
    try:
        conn.execute(
            "UPDATE users SET handle = ?, display_name = ?, external_id = ?, email = ?, "
            "email_type = ?, status = ?, role = ?, locale = ?, rich_info = ?, extra = ?, "
            "last_modified = ?, version = ?, document = ?, document_key = ?, document_stamp = ? WHERE id = ?",
            (user.handle, user.display_name, user.external_id, user.email, user.email_type,
             user.status, user.role, user.locale, _rich_info_json(user.rich_info), user.extra,
             user.last_modified, version, *document_of(documents, user), user.id),  # fmt: skip
        )
    except conn.dialect.integrity_error as exc:  # a racing writer in another process
        raise _uniqueness(exc, fields) from None
    return user


def _delete_user(conn: Connection, team: str, user_id: str) -> bool:
    lock_groups_of_user(conn, user_id)  # groups, then users, then the team: as group edits lock
    deleted = conn.execute("DELETE FROM users WHERE id = ? AND team = ?", (user_id, team)).rowcount
    if deleted:
        remove_user_from_groups(conn, user_id)  # same transaction: no member outlives its user
        conn.execute("UPDATE teams SET user_count = user_count - 1 WHERE id = ?", (team,))
    return bool(deleted)


def _accept_invitation(
    conn: Connection, team: str, user_id: str, documents: DocumentRenderer | None
) -> WireUser:
    current = _select_user(conn, team, user_id, lock=True)
    if current is None:
        raise NotFound(f"User {user_id} not found")
    if current.status != "pending-invitation":
        return current
    fields = UserFields(
        handle=current.handle, display_name=current.display_name, external_id=current.external_id,
        email=current.email, email_type=current.email_type, role=current.role,
        locale=current.locale, rich_info=current.rich_info, extra=current.extra,
    )  # fmt: skip
    user = dataclasses.replace(current, status="active", last_modified=now_text(), version=_version(fields, "active"))
    conn.execute(
        "UPDATE users SET status = 'active', last_modified = ?, version = ?, document = ?, "
        "document_key = ?, document_stamp = ? WHERE id = ?",
        (user.last_modified, user.version, *document_of(documents, user), user_id),
    )
    return user
