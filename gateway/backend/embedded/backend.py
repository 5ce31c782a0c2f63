"""
The embedded backend: Wire users and their groups kept in the gateway's own database (SQLite or
PostgreSQL), so that the gateway runs (and can be tried) without a Wire installation.

`EmbeddedBackend` is the `Backend` (gateway/backend/base.py); its units of work are in users.py
(users), groups.py (groups), memberships.py (a user's side of membership) and documents.py (list
pages from stored documents). Races between processes (replicas on one PostgreSQL database) are
decided by the unique constraints, whose violation becomes the same Uniqueness, and by reading a
row `FOR UPDATE` before changing it (nothing on SQLite, where a write holds the whole database).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TypeVar

from gateway.backend.base import MemberRule
from gateway.backend.documents import DocumentPage, DocumentRenderer, UserDocument
from gateway.backend.embedded import groups, users
from gateway.backend.embedded.documents import (
    mark_refreshed,
    refreshed_under,
    search_documents,
    stale_documents,
    store_documents,
    unique_documents,
    user_document,
)
from gateway.backend.embedded.memberships import with_groups, with_page_groups
from gateway.backend.embedded.page_cursors import PageCursors
from gateway.backend.sql.filters import compile_filter, order_by
from gateway.backend.sql.groups import EMBEDDED_TABLES, GROUP_SORT_COLUMNS, group_filter_table, search_groups
from gateway.backend.sql.user_search import EMBEDDED_USERS, Window, user_window
from gateway.backend.wire_group import GroupEdit, GroupPage, GroupQuery, NewGroup, WireGroup
from gateway.backend.wire_user import NewUser, Page, UserFields, UserQuery, WireUser, is_point_query
from gateway.db.dialect import Connection, Database
from gateway.scim.errors import NotFound

PageT = TypeVar("PageT", Page, DocumentPage)


_GROUP_FILTERS = group_filter_table(EMBEDDED_TABLES)
BOUNDED_PAGE = 100  # rows of a page read as a point read (`_read_page`): Okta's count


class EmbeddedBackend:
    """
    A `Backend` (gateway/backend/base.py) over the store's `Database`: each method is one unit of
    work of users.py or groups.py, run on the database's threads. A user read carries its groups
    (one more indexed query). Page cursors are this process's own: another replica pages the same
    query by OFFSET until it has seen a page.

    With a `DocumentRenderer` every write also stores the user's rendered document, and
    `search_user_documents` serves list pages from them (gateway/backend/embedded/documents.py).
    `group_members` is Wire's rule for group members (gateway/backend/base.py, `MemberRule`),
    applied inside each group write.
    """

    def __init__(self, db: Database, documents: DocumentRenderer | None = None, *, group_members: MemberRule) -> None:
        self._db = db
        self._documents = documents
        self._group_members = group_members
        self._cursors = PageCursors()

    async def ensure_team(self, team: str) -> None:
        await self._db.write(lambda conn: users.ensure_team(conn, team))

    async def default_locale(self) -> None:
        return None  # the configured backend.default_locale

    async def get_user(self, team: str, user_id: str) -> WireUser:
        user = await self._db.read_point(lambda conn: with_groups(conn, users.select_user(conn, team, user_id)))
        if user is None:
            raise NotFound(f"User {user_id} not found")
        return user

    async def user_document(self, team: str, user_id: str) -> tuple[UserDocument, str] | None:
        """`get_user` as its stored document (gateway/backend/embedded/documents.py); None: read `get_user`."""
        documents = self._documents
        if documents is None:
            return None
        return await self._db.read_point(lambda conn: user_document(conn, documents, team, user_id))

    async def search_users(self, team: str, query: UserQuery) -> Page:
        return await self._read_page(
            query, lambda conn, window: with_page_groups(conn, users.search_users(conn, team, window)), team=team
        )

    async def search_user_documents(self, team: str, query: UserQuery) -> DocumentPage | None:
        """
        The page `search_users` would give, as stored documents; None without a DocumentRenderer.
        Rows whose stored document is not current are rendered here, not stored (see
        gateway/backend/embedded/documents.py).
        """
        documents = self._documents
        if documents is None:
            return None
        if query.filter is not None and is_point_query(query):
            where, params = compile_filter(query.filter, dialect=self._db.dialect)
            return await self._db.read_point(lambda conn: unique_documents(conn, documents, team, where, params))
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
        where, params = (
            ("", [])
            if query.filter is None
            else compile_filter(
                query.filter,
                dialect=dialect,
            )
        )
        order = order_by(query.sort_by, query.descending, dialect=dialect)
        key = (team, where, tuple(params)) if order == "seq" else None
        cursor = None if key is None else self._cursors.find(key, query.offset)
        after, skip = (None, query.offset) if cursor is None else (cursor[1], query.offset - cursor[0])
        window = user_window(EMBEDDED_USERS, where, params, order, query.offset, query.limit, after, skip)
        # A page of everyone in creation order from its first row or from where a page ended
        # walks at most `limit` entries of one index, as a point read walks a few: bounded, it
        # is read as one (on SQLite, on the loop's connection). Rows to skip, a filter or a sort
        # may walk the whole team: a reader thread.
        bounded = key is not None and not where and query.limit <= BOUNDED_PAGE and skip == 0
        reading = self._db.read_point if bounded else self._db.read
        page, last_seq = await reading(lambda conn: read(conn, window))
        if key is not None and last_seq is not None:
            self._cursors.remember(key, query.offset + len(page.users), last_seq)
        return page

    def reads_together(self) -> AbstractContextManager[None]:
        return self._db.reads_together()

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
        refreshed, after_seq = 0, 0
        while True:
            updates, after = await self._db.read(
                lambda conn: stale_documents(conn, documents, after_seq=after_seq, limit=batch)  # noqa: B023 - awaited in this iteration
            )
            if updates:
                refreshed += await self._db.write(lambda conn: store_documents(conn, updates))  # noqa: B023 - awaited in this iteration
            if after is None:
                break
            after_seq = after
        await self._db.write(lambda conn: mark_refreshed(conn, documents.key))
        return refreshed

    async def create_user(self, team: str, new: NewUser) -> WireUser:
        return await self._db.write(lambda conn: users.insert_user(conn, team, new, self._documents))

    async def update_user(
        self, team: str, user_id: str, fields: UserFields, *, expected_version: str | None = None
    ) -> WireUser:
        return await self._db.write(
            lambda conn: with_groups(
                conn, users.update_user(conn, team, user_id, fields, expected_version, self._documents)
            )
        )

    async def delete_user(self, team: str, user_id: str) -> bool:
        return await self._db.write(lambda conn: users.delete_user(conn, team, user_id))

    async def accept_invitation(self, team: str, user_id: str) -> WireUser:
        return await self._db.write(
            lambda conn: with_groups(conn, users.accept_invitation(conn, team, user_id, self._documents))
        )

    # --- groups ------------------------------------------------------------------------------

    async def get_group(self, team: str, group_id: str, *, include_members: bool = True) -> WireGroup:
        group = await self._db.read(lambda conn: groups.select_group(conn, team, group_id, include_members))
        if group is None:
            raise NotFound(f"Group {group_id} not found")
        return group

    async def search_groups(self, team: str, query: GroupQuery) -> GroupPage:
        dialect = self._db.dialect
        where, params = ("", []) if query.filter is None else compile_filter(query.filter, _GROUP_FILTERS, dialect)
        order = order_by(
            query.sort_by, query.descending, columns=GROUP_SORT_COLUMNS, dialect=dialect, resource="groups"
        )
        return await self._db.read(lambda conn: search_groups(conn, EMBEDDED_TABLES, team, where, params, order, query))

    async def create_group(self, team: str, new: NewGroup) -> WireGroup:
        return await self._db.write(lambda conn: groups.insert_group(conn, team, new, self._group_members))

    async def edit_group(
        self,
        team: str,
        group_id: str,
        edits: Sequence[GroupEdit],
        *,
        expected_version: str | None = None,
        include_members: bool = False,
    ) -> WireGroup:
        return await self._db.write(
            lambda conn: groups.edit_group(
                conn, team, group_id, edits, self._group_members, expected_version, include_members
            )
        )

    async def delete_group(self, team: str, group_id: str) -> bool:
        return await self._db.write(lambda conn: groups.delete_group(conn, team, group_id))

    # --- health ------------------------------------------------------------------------------

    async def check(self) -> None:
        await self._db.read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        """The database belongs to whoever opened it; nothing to release here."""
