"""The lookups IdPs send compile, on PostgreSQL, to SQL that an index can answer (no Seq Scan)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.backend.sql.filters import compile_filter
from gateway.db.connect import Location, connect, migrate
from gateway.db.dialect import Connection
from gateway.scim.filter.grammar import parse_filter
from postgres_schema import fresh_schema

pytestmark = pytest.mark.postgres


# 5000 users in 5 teams, so that the planner has statistics to choose by
_FILL = """
INSERT INTO teams (id, created_at) SELECT 't' || n, '' FROM generate_series(0, 4) n;
INSERT INTO users (id, team, handle, external_id, display_name, email, status, role, locale, rich_info,
                   extra, created_at, last_modified, version)
SELECT 'id' || n, 't' || (n % 5), 'user' || n, 'user' || n || '@example.com', 'User ' || n,
       'user' || n || '@example.com', 'active', 'member', 'en', '[]', '{}', '2026', '2026', 'v'
FROM generate_series(1, 5000) n
"""


@pytest.fixture(name="conn")
def _conn() -> Iterator[Connection]:
    with fresh_schema() as dsn:
        conn = connect(Location.parse(dsn))
        try:
            migrate(conn)
            conn.execute(_FILL)
            conn.execute("ANALYZE")
            yield conn
        finally:
            conn.close()


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ('userName eq "BJensen"', "users_handle_key"),
        ('externalId eq "bjensen@example.com"', "users_by_external_id"),
        ('id eq "2819c223-7f76-453a-919d-413861904646"', "users_id_key"),
        ('emails[type eq "work"].value eq "B@example.com"', "users_by_email"),
        ('displayName eq "Barbara"', "users_by_display_name"),
    ],
)
def test_lookup_filters_use_an_index(conn: Connection, text: str, index: str) -> None:
    """Lookups by userName, externalId, id, email and displayName (any case) use an index."""
    where, params = compile_filter(parse_filter(text), dialect=conn.dialect)

    rows = conn.execute(f"EXPLAIN SELECT id FROM users WHERE team = ? AND {where}", ["t1", *params]).fetchall()

    plan = " ".join(row[0] for row in rows)
    assert "Seq Scan" not in plan
    assert index in plan
