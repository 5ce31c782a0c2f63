"""The filters IdPs send for lookups compile to SQL that SQLite answers from an index."""

from __future__ import annotations

import sqlite3

import pytest

from gateway.backend.sql.filters import compile_filter
from gateway.db.migrations import migrate_sqlite
from gateway.scim.errors import InvalidFilter
from gateway.scim.filter.grammar import parse_filter


@pytest.fixture(name="conn")
def _conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate_sqlite(conn)
    return conn


def _plan(conn: sqlite3.Connection, text: str) -> str:
    where, params = compile_filter(parse_filter(text))
    rows = conn.execute(
        f"EXPLAIN QUERY PLAN SELECT id FROM users WHERE team = ? AND {where}", ["t", *params]
    ).fetchall()
    return " ".join(row[-1] for row in rows)


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ('userName eq "BJensen"', "(handle=?)"),
        ('externalId eq "bjensen@example.com"', "users_by_external_id"),
        ('id eq "2819c223-7f76-453a-919d-413861904646"', "(id=?)"),
        ('emails[type eq "work"].value eq "b@example.com"', "users_by_email"),
        ('displayName eq "Barbara"', "users_by_display_name"),
    ],
)
def test_lookup_filters_use_an_index(conn: sqlite3.Connection, text: str, index: str) -> None:
    """Lookups by userName, externalId, id, email and displayName search an index, never scan."""
    plan = _plan(conn, text)

    assert "SCAN" not in plan
    assert index in plan


def test_username_comparison_folds_the_operand(conn: sqlite3.Connection) -> None:
    """userName is stored lower-case, so the operand is folded and compared exactly."""
    where, params = compile_filter(parse_filter('userName eq "BJensen"'))

    assert ["bjensen"] == params
    assert "COLLATE" not in where


def test_unknown_attribute_is_an_invalid_filter() -> None:
    """A filter on an attribute the gateway cannot search names the attribute."""
    with pytest.raises(InvalidFilter) as caught:
        compile_filter(parse_filter('nickName eq "x"'))

    assert "nickname" in caught.value.detail
