"""The table of user attributes (gateway/backend/user_attributes.py) agrees with everything it describes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3

from gateway.backend.brig.mapping import brig_puts, read_back
from gateway.backend.sql.filters import compile_filter
from gateway.backend.user_attributes import (
    BRIG_FIELDS, FILTERS, SORTS, STORED, USER_ATTRIBUTES, USER_COLUMNS, VERSIONED, column_values,
)  # fmt: skip
from gateway.backend.wire_user import UserFields, WireUser, content_version
from gateway.db.migrations import migrate_sqlite
from gateway.scim.filter.grammar import parse_filter

USER = WireUser(
    id="u1", team="t1", handle="h", display_name="D", external_id="x", email="e@x", email_type="work",
    status="active", role="admin", locale="de", idp="idp1", rich_info=(("Dept", "Sales"),),
    extra='{"name":{"givenName":"B"}}', created="c", last_modified="m", version='W/"v"',
)  # fmt: skip


def test_stored_attributes_are_wireusers_fields_in_order() -> None:
    fields = [f.name for f in dataclasses.fields(WireUser)]
    assert [a.field for a in STORED] == fields[: len(STORED)]


def test_every_field_a_client_sets_is_stored_and_versioned() -> None:
    settable = {f.name for f in dataclasses.fields(UserFields)} - {"active"}
    assert settable | {"status"} == set(VERSIONED)
    assert settable <= {a.field for a in STORED}


def test_both_user_tables_have_the_stored_columns() -> None:
    conn = sqlite3.connect(":memory:")
    migrate_sqlite(conn)
    for table in ("users", "brig_users"):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        missing = {c.strip() for c in USER_COLUMNS.split(",")} - columns
        assert not missing, f"{table} lacks {missing}"


def test_the_version_is_the_one_earlier_releases_stored() -> None:
    """Reading the table must not change any user's ETag: the same content, in the same order, hashed alike."""
    before = json.dumps(
        ["h", "D", "x", "e@x", "work", "active", "admin", "de", [["Dept", "Sales"]], '{"name":{"givenName":"B"}}'],
        ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    assert 'W/"' + hashlib.sha256(before.encode()).hexdigest()[:32] + '"' == content_version(USER, "active")


def test_stored_values_are_in_column_order_and_form() -> None:
    values = column_values(USER)
    assert len(values) == len(STORED)
    assert values[[a.column for a in STORED].index("rich_info")] == '[["Dept", "Sales"]]'
    assert values[[a.column for a in STORED].index("created_at")] == "c"


def test_filterable_and_sortable_paths_come_from_the_table() -> None:
    assert "preferredlanguage" not in FILTERS  # no `filter` in its row
    assert {"emails", "emails.value", "roles", "roles.value", "name.givenname"} <= set(FILTERS)
    assert list(SORTS) == ["username", "displayname", "meta.created", "meta.lastmodified"]
    where, params = compile_filter(parse_filter('userName eq "Bob"'))
    assert (where, params) == ("(handle = ?)", ["bob"])  # stored lower-case: the operand is folded


def test_brig_fields_are_read_back_and_written_from_the_table() -> None:
    brig_user = {"id": "u1", "handle": "h2", "name": "New Name", "locale": "fr-FR", "team": "t1"}
    read = read_back(USER, brig_user, status="active")
    assert (read.handle, read.display_name, read.locale) == ("h2", "New Name", "fr")
    assert brig_puts(USER, read) == [("handle", {"handle": "h2"}), ("name", {"name": "New Name"}),
                                     ("locale", {"locale": "fr"})]  # fmt: skip
    assert brig_puts(USER, read, skip=("handle",))[0][0] == "name"
    assert {field for field, _ in BRIG_FIELDS} == {"handle", "display_name", "locale"}


def test_paths_are_unique() -> None:
    paths = [p.lower() for a in USER_ATTRIBUTES for p in (a.scim, *a.aliases)]
    assert len(paths) == len(set(paths))
