"""The embedded backend builds users from rows by position (gateway/backend/sql/user_rows.py)."""

from __future__ import annotations

import dataclasses

from gateway.backend.sql import user_rows
from gateway.backend.user_attributes import USER_COLUMNS
from gateway.backend.wire_user import WireUser


def test_the_user_columns_are_in_wireuser_field_order() -> None:
    """row_to_user passes a row positionally: its columns must be WireUser's fields, in order."""
    columns = [c.strip() for c in USER_COLUMNS.split(",")]
    fields = [f.name for f in dataclasses.fields(WireUser)]

    assert fields[: len(columns)] == ["created" if c == "created_at" else c for c in columns]


def test_a_row_becomes_the_user_it_holds() -> None:
    """Every column lands in its field; rich info is decoded; a trailing `seq` is ignored."""
    row = ("u1", "t1", "h", "D", "x", "e@x", "work", "active", "admin", "de", "idp1",
           '[["Dept", "Sales"]]', '{"name": {}}', "c", "m", 'W/"v"', 42)  # fmt: skip

    user = user_rows.row_to_user(row)  # noqa: SLF001

    assert WireUser(
        id="u1", team="t1", handle="h", display_name="D", external_id="x", email="e@x",
        email_type="work", status="active", role="admin", locale="de", idp="idp1",
        rich_info=(("Dept", "Sales"),), extra='{"name": {}}', created="c", last_modified="m",
        version='W/"v"',
    ) == user  # fmt: skip
